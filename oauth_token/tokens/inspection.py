"""Recognising a token presented to the revocation (RFC 7009) and introspection (RFC 7662)
endpoints, one small class per kind of token this server issues.

``token_type_hint`` only decides which kind is tried first (RFC 7009 §2.1, RFC 7662 §2.1:
the server extends its search to every kind when the hint is wrong or unknown). A token that
no kind recognises (another issuer's, a forgery, one signed by a revoked key, garbage) is
simply not found: revocation answers 200 and introspection ``{"active": false}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from oauth_token.core import endpoints
from oauth_token.errors import InvalidToken
from oauth_token.registry import snapshots
from oauth_token.tokens import refresh_tokens, revocation
from oauth_token.tokens.access_tokens import AccessTokenClaims, own_jwt_claims, user_for_claims


@dataclass(frozen=True)
class FoundToken:
    """A token this server issued: its kind, the client it was issued to, whether it is
    active now, and its RFC 7662 §2.2 members (without ``active``)."""

    kind: str
    client_id: str
    active: bool
    members: dict[str, Any] = field(default_factory=dict)
    handle: Any = field(default=None, repr=False, compare=False)


class TokenKind:
    name: ClassVar[str]

    def find(self, token: str) -> FoundToken | None:
        raise NotImplementedError

    def revoke(self, found: FoundToken) -> None:
        raise NotImplementedError


class AccessTokens(TokenKind):
    """RFC 9068 JWT access tokens: recognised by our signature; active until ``exp`` unless
    their ``jti`` is on the denylist, their client is gone or their user inactive. Revoking
    one denylists its ``jti`` until it would have expired (RFC 7009 §2)."""

    name = "access_token"

    def find(self, token: str) -> FoundToken | None:
        claims = own_jwt_claims(token, access_token=True)
        if claims is None or not all(
            isinstance(claims.get(c), str) for c in ("jti", "client_id", "sub")
        ):
            return None
        names = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")
        members: dict[str, Any] = {k: claims[k] for k in names if k in claims}
        cnf = claims.get("cnf")
        members["token_type"] = "DPoP" if isinstance(cnf, dict) and cnf.get("jkt") else "Bearer"
        for optional in ("cnf", "act", "auth_time", "permissions"):
            if optional in claims:
                members[optional] = claims[optional]
        return FoundToken(
            self.name, claims["client_id"], self._is_active(claims, token), members, claims
        )

    @staticmethod
    def _is_active(claims: dict[str, Any], token: str) -> bool:
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            return False
        if revocation.is_token_revoked(claims):
            return False
        if snapshots.get_client(claims["client_id"]) is None:
            return False
        try:
            user_for_claims(AccessTokenClaims(claims, token, "Bearer"))
        except InvalidToken:
            return False
        return True

    def revoke(self, found: FoundToken) -> None:
        claims = found.handle
        expires_at = datetime.fromtimestamp(float(claims["exp"]), tz=UTC)
        revocation.revoke_access_tokens(
            [(claims["jti"], expires_at)], client_id=found.client_id, reason="revoked by client"
        )


class RefreshTokens(TokenKind):
    """Opaque refresh tokens (RFC 6749 §1.5), found by digest. Active while the refresh_token
    grant would accept them; revoking one revokes its whole family and denylists the access
    tokens issued from it (RFC 7009 §2.1)."""

    name = "refresh_token"

    def find(self, token: str) -> FoundToken | None:
        row = refresh_tokens.find(token)
        if row is None:
            return None
        family = row.family
        client_id = family.client.client_id
        members: dict[str, Any] = {
            "scope": family.scope,
            "client_id": client_id,
            "sub": family.subject,
            "iss": endpoints.issuer(),
            "iat": int(row.created_at.timestamp()),
            # Not an access token type (RFC 6749 §7.1), so a resource server that checks
            # token_type never mistakes a refresh token for an access token.
            "token_type": "refresh_token",
        }
        if family.audience:
            members["aud"] = family.audience
        expiries = [e for e in (family.expires_at, row.idle_expires_at) if e is not None]
        if expiries:
            members["exp"] = int(min(expiries).timestamp())
        if family.dpop_jkt:
            members["cnf"] = {"jkt": family.dpop_jkt}
        return FoundToken(self.name, client_id, refresh_tokens.is_active(row), members, row)

    def revoke(self, found: FoundToken) -> None:
        refresh_tokens.revoke_family(found.handle.family, "revoked by client")


KINDS: tuple[TokenKind, ...] = (AccessTokens(), RefreshTokens())


def find(token: str, hint: str | None = None) -> FoundToken | None:
    """The kind named by ``hint`` first, then every other kind."""
    ordered = sorted(KINDS, key=lambda kind: kind.name != hint)
    for kind in ordered:
        found = kind.find(token)
        if found is not None:
            return found
    return None


def kind_of(found: FoundToken) -> TokenKind:
    return next(k for k in KINDS if k.name == found.kind)
