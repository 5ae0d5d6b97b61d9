from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from oauth_token.core import secrets
from oauth_token.grants.base import GrantResult, TokenContext
from oauth_token.registry import keyring
from oauth_token.registry.snapshots import get_api, get_client
from oauth_token.token_endpoint.issuance import mint_access_token
from oauth_token.token_endpoint.request import TokenRequest

API = "https://api.example.com"


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", "alice@example.com", "pw")


@pytest.fixture
def user_token(signing_keys, api, m2m_client, rf) -> Callable[..., str]:
    """A user's access token minted by issuance, as the code and refresh grants do."""

    def mint(user: Any, scopes: tuple[str, ...] = ("read:things",), jkt: str | None = None) -> str:
        client, _ = m2m_client
        info = get_client(client.client_id)
        assert info is not None
        result = GrantResult(subject=str(user.pk), api=get_api(API), scopes=scopes, user=user)
        context = TokenContext(TokenRequest({}, None, rf.post("/oauth/token")), info, "none", jkt)
        return mint_access_token(result, context).token

    return mint


@pytest.fixture
def forge(signing_keys) -> Callable[..., str]:
    """Tokens with chosen claims/headers, signed by the current key (for rejection rules)."""

    def sign(typ: str = "at+jwt", drop: tuple[str, ...] = (), **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://auth.example.test/",
            "sub": "someclient@clients",
            "aud": API,
            "iat": now,
            "exp": now + 600,
            "jti": secrets.new_identifier(16),
            "client_id": "someclient",
            "scope": "read:things",
        }
        claims.update(overrides)
        for name in drop:
            claims.pop(name)
        return keyring.sign(claims, alg="RS256", typ=typ)

    return sign
