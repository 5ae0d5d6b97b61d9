"""An external identity provider for jwt-bearer and token-exchange tests: its own keys, JWTs
signed with PyJWT directly, and optionally its JWK Set served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt

from tests.kit import KeyPair, rsa_keypair
from tests.stub_server import LocalSite

IDP = "https://idp.example.org/"
TOKEN_ENDPOINT = "https://auth.example.test/oauth/token"


class Idp:
    def __init__(self, issuer: str = IDP, key: KeyPair | None = None) -> None:
        self.issuer = issuer
        self.key = key or rsa_keypair()

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.jwk]}

    def entry(self, **extra: Any) -> dict[str, Any]:
        """A ``Client.trusted_issuers`` entry with the JWK Set inline, whose subjects are
        local usernames (``subject_mapping``: nothing maps without it)."""
        return {
            "issuer": self.issuer,
            "jwks": self.jwks,
            "subject_mapping": "username",
            **extra,
        }

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "alice",
            "aud": TOKEN_ENDPOINT,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(12),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any] | None = None, **overrides: Any) -> str:
        body = claims if claims is not None else self.claims(**overrides)
        return jwt.encode(
            body, self.key.private, algorithm=self.key.alg, headers={"kid": self.key.kid}
        )


@contextmanager
def serve_jwks(jwks: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Serve ``jwks`` at http://127.0.0.1:<free port>/jwks.json; yields (uri, request paths)."""
    with LocalSite(jwks) as site:
        yield site.url, site.paths
