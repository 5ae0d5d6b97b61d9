"""Fixtures for the authorization-code flow, shared by tests/authorize, tests/grants and
tests/oidc (imported into their conftest modules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as BrowserClient

from oauth_token.models import Api, Client
from oauth_token.registry import provisioning
from tests.authorize.helpers import (
    API,
    CALLBACK,
    OTHER_CALLBACK,
    assert_redirect_params,
    authorize_url,
    pkce_pair,
)


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create_user(
        "alice",
        password="correct horse",
        email="alice@example.com",
        first_name="Alice",
        last_name="Liddell",
    )


@pytest.fixture
def offline_api(db: None) -> Api:
    return provisioning.create_api(
        identifier=API,
        name="Example API",
        scopes=["read:things", "write:things"],
        allow_offline_access=True,
    )


@pytest.fixture
def web_app(db: None) -> tuple[Client, str]:
    """A confidential, third-party web application with two registered redirect URIs."""
    created = provisioning.create_client(
        name="Web App",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK, OTHER_CALLBACK],
    )
    assert created.secret
    return created.client, created.secret


@pytest.fixture
def spa(db: None) -> Client:
    """A public client (single-page app): must use PKCE."""
    return provisioning.create_client(
        name="SPA",
        client_type="public",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK],
    ).client


@pytest.fixture
def browser(user: Any) -> BrowserClient:
    """A browser session in which alice has logged in."""
    client = BrowserClient()
    client.force_login(user)
    return client


@pytest.fixture
def pkce() -> tuple[str, str]:
    return pkce_pair()


@pytest.fixture
def authorize(browser: BrowserClient) -> Callable[..., Any]:
    """GET /authorize as logged-in alice: ``authorize(client, **params)`` with defaults for a
    code request with PKCE to the first callback (pass ``name=None`` to leave one out)."""

    def call(client: Client, *, session: BrowserClient | None = None, **params: Any) -> Any:
        values: dict[str, Any] = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": "st-123",
        }
        if "code_challenge" not in params:
            _verifier, challenge = pkce_pair()
            values["code_challenge"] = challenge
            values["code_challenge_method"] = "S256"
        values.update(params)
        return (session or browser).get(authorize_url(**values))

    return call


@pytest.fixture
def first_party_app(db: None) -> tuple[Client, str]:
    """A confidential first-party web application: no consent page."""
    created = provisioning.create_client(
        name="First-party App",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK, OTHER_CALLBACK],
        first_party=True,
    )
    assert created.secret
    return created.client, created.secret


@pytest.fixture
def first_party_spa(db: None) -> Client:
    return provisioning.create_client(
        name="First-party SPA",
        client_type="public",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK],
        first_party=True,
    ).client


@pytest.fixture
def obtain_code(authorize: Callable[..., Any]) -> Callable[..., tuple[str, str | None]]:
    """``obtain_code(client, **params)`` → (code, PKCE verifier or None) for a client that
    needs no consent; pass ``pkce=False`` for a code issued without PKCE."""

    def call(client: Client, *, pkce: bool = True, **params: Any) -> tuple[str, str | None]:
        verifier: str | None = None
        if pkce:
            verifier, challenge = pkce_pair()
            params.setdefault("code_challenge", challenge)
            params.setdefault("code_challenge_method", "S256")
        else:
            params["code_challenge"] = None
        return assert_redirect_params(authorize(client, **params))["code"], verifier

    return call
