"""Turns a validated grant into signed tokens (RFC 9068 access tokens; ID and refresh tokens
where the grant allows them). The only place the token endpoint signs anything."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import endpoints, id_tokens, keyring, refresh_tokens, secrets
from .conf import oauth_settings
from .grants.base import GrantResult, TokenContext

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@dataclass(frozen=True)
class AccessToken:
    token: str
    jti: str
    claims: dict[str, Any]
    expires_in: int


@dataclass
class IssuedTokens:
    access_token: AccessToken
    token_type: str
    scope: tuple[str, ...]
    refresh_token: str | None = None
    id_token: str | None = None
    issued_token_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token.token,
            "token_type": self.token_type,
            "expires_in": self.access_token.expires_in,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.id_token:
            body["id_token"] = self.id_token
        if self.scope:
            body["scope"] = " ".join(self.scope)
        if self.issued_token_type:
            body["issued_token_type"] = self.issued_token_type
        body.update(self.extra)
        return body


def access_token_audience(result: GrantResult) -> str | list[str]:
    """The API, plus /userinfo when ``openid`` was granted to a user (as Auth0 does)."""
    audiences: list[str] = []
    if result.api is not None:
        audiences.append(result.api.identifier)
    if result.user is not None and result.has_scope("openid"):
        userinfo = endpoints.url_or_none("userinfo")
        if userinfo:
            audiences.append(userinfo)
    if not audiences:
        return endpoints.issuer()
    return audiences[0] if len(audiences) == 1 else audiences


def mint_access_token(
    result: GrantResult, context: TokenContext, now: int | None = None
) -> AccessToken:
    now = int(time.time()) if now is None else now
    lifetime = (
        result.api.access_token_lifetime
        if result.api
        else int(oauth_settings.ACCESS_TOKEN_LIFETIME)
    )
    jti = secrets.new_identifier(16)
    claims: dict[str, Any] = {
        "iss": endpoints.issuer(),
        "sub": result.subject,
        "aud": access_token_audience(result),
        "iat": now,
        "exp": now + lifetime,
        "jti": jti,
        "client_id": context.client.client_id,
        "azp": context.client.client_id,
        "scope": " ".join(result.scopes),
    }
    if result.auth_time is not None:
        claims["auth_time"] = result.auth_time
    if context.dpop_jkt:
        claims["cnf"] = {"jkt": context.dpop_jkt}
    claims.update(result.extra_claims)
    alg = result.api.signing_alg if result.api else oauth_settings.DEFAULT_SIGNING_ALGORITHM
    token = keyring.sign(claims, alg=alg, typ="at+jwt")
    return AccessToken(token=token, jti=jti, claims=claims, expires_in=lifetime)


# Steps that add ID tokens, refresh tokens or bookkeeping, in order. Features register here
# rather than growing ``issue``: f(result, context, issued) -> None.
Step = Callable[[GrantResult, TokenContext, IssuedTokens], None]
_steps: list[Step] = []


def register_step(step: Step) -> Step:
    if step not in _steps:
        _steps.append(step)
    return step


def issue(result: GrantResult, context: TokenContext) -> IssuedTokens:
    access = mint_access_token(result, context)
    issued = IssuedTokens(
        access_token=access,
        token_type="DPoP" if context.dpop_jkt else "Bearer",
        scope=result.scopes,
        issued_token_type=result.issued_token_type,
    )
    id_tokens.add_id_token(result, context, issued)
    refresh_tokens.issue_refresh_token(result, context, issued)
    for step in _steps:
        step(result, context, issued)
    record_source(result, issued)
    return issued


def record_source(result: GrantResult, issued: IssuedTokens) -> None:
    """Let the artefact the grant consumed (e.g. an authorization code) remember what was
    issued from it, so that a replay of it can revoke those tokens (RFC 6749 §4.1.2)."""
    recorder = getattr(result.source, "record_issued", None)
    if callable(recorder):
        recorder(issued)
