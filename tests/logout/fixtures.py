"""Fixtures for sessions and logout: a signed-in browser that went through /authorize with
real clients, and the ID tokens it obtained."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client as BrowserClient

from oauth_token.authorize import sessions
from oauth_token.models import Client
from oauth_token.registry import keyring, provisioning
from tests.authorize.helpers import CALLBACK, ISSUER

LOGGED_OUT = "https://app.example.com/logged-out"
OTHER_LOGGED_OUT = "https://app.example.com/bye"


@dataclass
class SignedIn:
    """A registered client, the token response it got in the browser session, and its sid."""

    client: Client
    secret: str
    tokens: dict[str, Any]

    @property
    def id_token(self) -> str:
        return str(self.tokens["id_token"])

    @property
    def claims(self) -> dict[str, Any]:
        return decode(self.id_token, self.client.client_id)


def decode(token: str, audience: str, **options: Any) -> dict[str, Any]:
    """Verify one of the server's JWTs with its published key, as a relying party would."""
    header = jwt.get_unverified_header(token)
    alg, key = keyring.verification_key(header["kid"])
    return dict(
        jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=ISSUER, **options)
    )


def logout_url(**params: Any) -> str:
    return "/oidc/logout?" + urlencode({k: v for k, v in params.items() if v is not None})


def session_sid(browser: BrowserClient) -> str | None:
    value = browser.session.get(sessions.SESSION_KEY)
    return value if isinstance(value, str) else None


def is_signed_in(browser: BrowserClient) -> bool:
    return "_auth_user_id" in browser.session


@pytest.fixture
def rp_client(db: None) -> Callable[..., tuple[Client, str]]:
    """A first-party web app (no consent page) with post-logout redirect URIs."""

    def make(name: str = "Logout App", **extra: Any) -> tuple[Client, str]:
        extra.setdefault("post_logout_redirect_uris", [LOGGED_OUT, OTHER_LOGGED_OUT])
        created = provisioning.create_client(
            name=name,
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=[CALLBACK],
            first_party=True,
            **extra,
        )
        assert created.secret
        return created.client, created.secret

    return make


@pytest.fixture
def sign_in_with(
    signing_keys: Any, obtain_code: Callable[..., Any], token_request: Callable[..., Any]
) -> Callable[..., SignedIn]:
    """``sign_in_with(client, secret)``: the browser session authorizes the client, which
    redeems the code; returns what the client got."""

    def run(client: Client, secret: str, scope: str = "openid profile", **params: Any) -> SignedIn:
        code, verifier = obtain_code(client, scope=scope, **params)
        response = token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth=(client.client_id, secret),
        )
        assert response.status_code == 200, response.content
        return SignedIn(client, secret, response.json())

    return run
