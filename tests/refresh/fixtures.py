"""Fixtures for refresh-token tests (registered in tests/conftest.py via pytest_plugins).

Families are started through the real pipeline (``issuance.issue`` with a GrantResult that has
a user and ``offline_access``), exactly as the authorization_code grant does, so these tests do
not depend on /authorize.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from oauth_token.models import Api, Client
from oauth_token.registry import snapshots
from oauth_token.token_endpoint import issuance
from oauth_token.token_endpoint.context import GrantResult, IssuedTokens, TokenContext
from oauth_token.token_endpoint.request import TokenRequest

USER_SCOPES = ("openid", "profile", "read:things", "write:things", "offline_access")


@pytest.fixture
def offline_api(api: Api) -> Api:
    """The example API, allowing refresh tokens."""
    api.allow_offline_access = True
    api.save()
    return api


@pytest.fixture
def resource_owner(db: None) -> Any:
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw-alice")


@pytest.fixture
def rt_client(make_client: Any) -> tuple[Client, str]:
    """A confidential client allowed authorization_code and refresh_token (the defaults)."""
    client, secret = make_client(name="Web app", grant_types=None)
    assert secret is not None
    return client, secret


@pytest.fixture
def public_rt_client(make_client: Any) -> Client:
    client, _ = make_client(name="SPA", client_type="public", grant_types=None)
    return client


def token_context(
    client: Client,
    *,
    grant_type: str = "authorization_code",
    dpop_jkt: str | None = None,
    params: dict[str, str] | None = None,
) -> TokenContext:
    http = RequestFactory().post("/oauth/token")
    info = snapshots.get_client(client.client_id)
    assert info is not None
    request = TokenRequest(
        params={"grant_type": grant_type, **(params or {})}, authorization=None, http=http
    )
    return TokenContext(request, info, info.auth_method, dpop_jkt=dpop_jkt)


@pytest.fixture
def start_family(signing_keys: Any, resource_owner: Any) -> Callable[..., IssuedTokens]:
    """Issue tokens as an original grant would: f(client, scopes=..., api=..., user=...)."""

    def start(
        client: Client,
        *,
        scopes: tuple[str, ...] = USER_SCOPES,
        api: Api | str | None = "default",
        user: Any = "default",
        dpop_jkt: str | None = None,
        auth_time: int | None = None,
    ) -> IssuedTokens:
        api_info = (
            snapshots.get_api("https://api.example.com")
            if api == "default"
            else (snapshots.get_api(api.identifier) if isinstance(api, Api) else None)
        )
        owner = resource_owner if user == "default" else user
        result = GrantResult(
            subject=str(owner.pk) if owner is not None else f"{client.client_id}@clients",
            api=api_info,
            scopes=scopes,
            user=owner,
            auth_time=auth_time if auth_time is not None else int(time.time()) - 60,
        )
        return issuance.issue(result, token_context(client, dpop_jkt=dpop_jkt))

    return start


@pytest.fixture
def refresh(token_request: Callable[..., Any], rt_client: tuple[Client, str]) -> Callable[..., Any]:
    """POST grant_type=refresh_token as ``rt_client`` (or ``client=``/``auth=`` given)."""

    def post(refresh_token: str, *, auth: Any = "default", **params: Any) -> Any:
        client, secret = rt_client
        credentials = (client.client_id, secret) if auth == "default" else auth
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **params}
        return token_request(data, auth=credentials)

    return post


def access_claims(token: str) -> dict[str, Any]:
    """Verify an access token against the published keys and return its claims."""
    import jwt

    from oauth_token.registry import keyring

    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    alg, key = keyring.verification_key(header["kid"])
    return jwt.decode(token, key, algorithms=[alg], options={"verify_aud": False})
