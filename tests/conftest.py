"""Shared fixtures: real objects built through the same functions the commands use."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from oauth_token import keyring, provisioning
from oauth_token.models import Api, Client

pytest_plugins = ["tests.refresh.fixtures"]


@pytest.fixture(autouse=True)
def _clear_caches() -> Iterator[None]:
    caches["default"].clear()
    keyring._private_keys.clear()
    yield
    caches["default"].clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def signing_keys(db: None) -> keyring.Ring:
    return keyring.rotate("RS256")


@pytest.fixture
def api(db: None) -> Api:
    return provisioning.create_api(
        identifier="https://api.example.com",
        name="Example API",
        scopes=["read:things", "write:things", "delete:things"],
    )


class ClientFactory:
    def __call__(self, **kwargs: Any) -> tuple[Client, str | None]:
        kwargs.setdefault("name", "Test client")
        kwargs.setdefault("grant_types", ["client_credentials"])
        created = provisioning.create_client(**kwargs)
        return created.client, created.secret


@pytest.fixture
def make_client(db: None) -> ClientFactory:
    return ClientFactory()


@pytest.fixture
def m2m_client(make_client: ClientFactory, api: Api) -> tuple[Client, str]:
    """A confidential client_credentials client granted read and write on the example API."""
    client, secret = make_client(name="Machine")
    provisioning.grant(client, api, ["read:things", "write:things"])
    assert secret is not None
    return client, secret


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def token_request(api_client: APIClient) -> Callable[..., Any]:
    """POST /oauth/token as form data; ``auth=(id, secret)`` adds a Basic header."""

    def post(
        data: dict[str, Any] | None = None,
        *,
        auth: tuple[str, str] | None = None,
        json: bool = False,
        **headers: Any,
    ) -> Any:
        if auth:
            headers["HTTP_AUTHORIZATION"] = basic(*auth)
        if json:
            return api_client.post("/oauth/token", data or {}, format="json", **headers)
        return api_client.generic(
            "POST",
            "/oauth/token",
            _urlencode(data or {}),
            content_type="application/x-www-form-urlencoded",
            **headers,
        )

    return post


def _urlencode(data: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)
