"""PAR fixtures: a confidential web client and a public one, both with redirect URIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F

from oauth_token.authorize.par import REQUEST_URI_PREFIX
from oauth_token.core import secrets
from oauth_token.models import Client, PushedAuthorizationRequest
from tests.authorize.fixtures import authorize, browser, first_party_app, pkce, user, web_app

__all__ = ["authorize", "browser", "first_party_app", "pkce", "user", "web_app"]

CALLBACK = "https://app.example.com/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture
def web_client(make_client: Any, api: Any) -> tuple[Client, str]:
    client, secret = make_client(
        name="Web app",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[CALLBACK, "https://app.example.com/other"],
    )
    assert secret is not None
    return client, secret


@pytest.fixture
def spa_client(make_client: Any) -> Client:
    client, _ = make_client(
        name="SPA",
        client_type="public",
        grant_types=["authorization_code"],
        redirect_uris=[CALLBACK],
    )
    return client


@pytest.fixture
def push(api_client: Any) -> Callable[..., Any]:
    from tests.conftest import _urlencode, basic

    def post(data: dict[str, Any], *, auth: tuple[str, str] | None = None) -> Any:
        headers = {"HTTP_AUTHORIZATION": basic(*auth)} if auth else {}
        return api_client.generic(
            "POST",
            "/oauth/par",
            _urlencode(data),
            content_type="application/x-www-form-urlencoded",
            **headers,
        )

    return post


def authorization_request(**overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid read:things",
        "audience": "https://api.example.com",
        "state": "af0ifjsldkj",
        "nonce": "n-0S6_WzA2Mj",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def row_for(request_uri: str) -> PushedAuthorizationRequest:
    reference = request_uri[len(REQUEST_URI_PREFIX) :]
    return PushedAuthorizationRequest.objects.get(request_uri_digest=secrets.digest(reference))


def elapse(request_uri: str, seconds: float) -> None:
    delta = timedelta(seconds=seconds)
    reference = request_uri[len(REQUEST_URI_PREFIX) :]
    PushedAuthorizationRequest.objects.filter(request_uri_digest=secrets.digest(reference)).update(
        created_at=F("created_at") - delta, expires_at=F("expires_at") - delta
    )
