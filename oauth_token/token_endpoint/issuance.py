"""Turns a validated grant into signed tokens (RFC 9068 access tokens; ID and refresh tokens
where the grant allows them). The only place the token endpoint signs anything.

Issuance runs once per request, after the grant: it mints the access token, adds an ID token
and a refresh token when they are due, records what it issued where a later revocation needs
it, and returns all of it in one :class:`IssuedTokens`.

Everything is signed before anything is written. The writes (a new refresh-token family, a
rotated token's successor, the consumption of a code or refresh token the grant only read)
then run in one transaction of their own (or in the grant's, when it holds one), so a
database with a single writer lock (SQLite) holds it for a few statements, not for RSA.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from django.db import transaction

from oauth_token import signals
from oauth_token.authorize import codes
from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, secrets
from oauth_token.models import Client, RefreshTokenFamily
from oauth_token.registry import keyring, roles
from oauth_token.registry.snapshots import ApiInfo, ClientInfo
from oauth_token.signals import send_after_commit
from oauth_token.token_endpoint.context import (
    AccessToken,
    ContinuedFamily,
    GrantResult,
    IssuedTokens,
    TokenContext,
)
from oauth_token.tokens import claims_hooks, id_tokens, refresh_tokens
from oauth_token.tokens.claims_hooks import ClaimsContext

__all__ = ["AccessToken", "IssuedTokens", "issue", "mint_access_token"]


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


def access_token_lifetime(client: ClientInfo, api: ApiInfo | None) -> int:
    """The client's lifetime if set, else the API's, else the settings' (DESIGN.md)."""
    if client.access_token_lifetime:
        return client.access_token_lifetime
    if api is not None:
        return api.access_token_lifetime
    return int(oauth_settings.ACCESS_TOKEN_LIFETIME)


def mint_access_token(
    result: GrantResult,
    context: TokenContext,
    now: int | None = None,
    *,
    permissions: list[str] | None = None,
) -> AccessToken:
    now = int(time.time()) if now is None else now
    lifetime = access_token_lifetime(context.client, result.api)
    if result.expires_at_most is not None:
        lifetime = max(0, min(lifetime, result.expires_at_most - now))
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
    if permissions is not None:
        claims["permissions"] = permissions
    if claims_hooks.access_token_hook() is not None:
        claims.update(claims_hooks.access_token_claims(claims, claims_context(result, context)))
    alg = result.api.signing_alg if result.api else oauth_settings.DEFAULT_SIGNING_ALGORITHM
    token = keyring.sign(claims, alg=alg, typ="at+jwt")
    return AccessToken(token=token, jti=jti, claims=claims, expires_in=lifetime)


def claims_context(result: GrantResult, context: TokenContext) -> ClaimsContext:
    return ClaimsContext(
        client=context.client,
        api=result.api,
        user=result.user,
        grant_type=context.request.get("grant_type") or "",
        scopes=result.scopes,
    )


def issue(
    result: GrantResult, context: TokenContext, *, in_grant_transaction: bool = False
) -> IssuedTokens:
    """RBAC first (the grantable scopes are the requested ones a user's roles allow), then
    the tokens; ``token_issued`` is sent once the transaction commits.

    ``in_grant_transaction``: the grant's own transaction is open (``BaseGrant.run``), and the
    writes join it without a savepoint. Otherwise they get a transaction of their own (a
    savepoint, inside a project's ATOMIC_REQUESTS), so a refused write rolls back only them
    and the error's after-rollback actions can still run."""
    held = roles.held_permissions(result.user, result.api)
    if held is not None:
        result = replace(result, scopes=roles.limit(result.api, result.scopes, held))
    permissions = roles.permissions_claim(result.user, result.api, result.scopes, held)
    access = mint_access_token(result, context, permissions=permissions)
    id_token = _id_token(result, context, access)
    family: RefreshTokenFamily | None = None
    refresh_token: str | None = None
    starts_family = result.continued_family is None and refresh_eligible(result, context)
    if _one_statement_rotation(result, in_grant_transaction):
        # PostgreSQL: the claim and the successor are one statement, atomic on its own.
        family, refresh_token = _refresh(result, context, access, starts_family)
    elif result.continued_family is not None or starts_family or result.redeemed_code is not None:
        with transaction.atomic(savepoint=not in_grant_transaction):
            family, refresh_token = _refresh(result, context, access, starts_family)
            if result.redeemed_code is not None:
                codes.record_issued(result.redeemed_code, access.jti, access.expires_at, family)
    issued = IssuedTokens(
        access_token=access,
        token_type="DPoP" if context.dpop_jkt else "Bearer",
        scope=result.scopes,
        refresh_token=refresh_token,
        refresh_family=family,
        id_token=id_token,
        issued_token_type=result.issued_token_type,
    )
    send_after_commit(
        signals.token_issued,
        Client,
        client_id=context.client.client_id,
        grant_type=context.grant_type,
        subject=result.subject,
        audience=result.api.identifier if result.api else None,
        scopes=list(result.scopes),
        jti=access.jti,
        refresh_family_id=family.pk if family is not None else None,
        request=context.request.http,
    )
    return issued


def _id_token(result: GrantResult, context: TokenContext, access: AccessToken) -> str | None:
    """Only when ``openid`` was granted to a user (OIDC Core §3.1.3.3)."""
    if result.user is None or not result.has_scope("openid"):
        return None
    return id_tokens.mint(
        result.user,
        client_id=context.client.client_id,
        scopes=result.scopes,
        access_token=access.token,
        auth_time=result.auth_time,
        nonce=result.nonce,
        sid=result.sid,
        context=claims_context(result, context) if claims_hooks.id_token_hook() else None,
    )


def _one_statement_rotation(result: GrantResult, in_grant_transaction: bool) -> bool:
    """A rotation the grant only read, on a database where claiming it and storing its
    successor is one statement (``refresh_tokens.rotate``): no transaction is needed."""
    continued = result.continued_family
    return (
        not in_grant_transaction
        and continued is not None
        and continued.unclaimed is not None
        and continued.rotated_from is not None
        and refresh_tokens.rotates_in_one_statement()
    )


def _refresh(
    result: GrantResult, context: TokenContext, access: AccessToken, starts_family: bool
) -> tuple[RefreshTokenFamily | None, str | None]:
    """The family the grant continued (claiming the presented token first when the grant only
    read it), or a new one when the grant is eligible; the access token is recorded against
    it (on the refresh-token row issued with it, or on its own row) so that revoking the
    family denylists it."""
    continued = result.continued_family
    issued_with = refresh_tokens.IssuedWith(access.jti, access.expires_at)
    if continued is not None:
        return continued.family, _continue(continued, issued_with)
    if not starts_family:
        return None, None
    family, value = refresh_tokens.start_family(
        client_pk=context.client.pk,
        user=result.user,
        subject=result.subject,
        audience=result.api.identifier if result.api else "",
        resources=result.granted_resources,
        scopes=result.granted_scopes if result.granted_scopes is not None else result.scopes,
        extra_claims=result.extra_claims,
        auth_time=result.auth_time,
        grant_type=context.grant_type,
        sid=result.sid or "",
        dpop_jkt=refresh_tokens.dpop_binding(context.client, context.dpop_jkt),
        lifetimes=refresh_tokens.Lifetimes.of(context.client),
        access=issued_with,
    )
    return family, value


def _continue(continued: ContinuedFamily, issued_with: refresh_tokens.IssuedWith) -> str | None:
    """Store what a continued family issued: a rotation's successor (claiming the presented
    token in the same step when the grant only read it), or, rotation off or within the reuse
    leeway, the access token on its own row. Returns the refresh token to hand out."""
    value, parent, token = continued.refresh_token, continued.rotated_from, continued.unclaimed
    if parent is not None and value is not None:
        if token is not None:
            refresh_tokens.rotate(token, value, continued.lifetimes, issued_with)
        else:
            refresh_tokens.store_successor(
                continued.family, parent, value, continued.lifetimes, issued_with
            )
        return value
    if token is not None:
        refresh_tokens.claim(token, lifetimes=continued.lifetimes)
    refresh_tokens.record_access_token(continued.family, issued_with.jti, issued_with.expires_at)
    return value


def refresh_eligible(result: GrantResult, context: TokenContext) -> bool:
    """A new family only when ``offline_access`` was granted (OIDC Core §11), the API allows
    offline access (no API: an OpenID-only grant, allowed), the client may use the
    refresh_token grant, and there is a user."""
    if not result.has_scope(refresh_tokens.OFFLINE_ACCESS):
        return False
    if result.api is not None and not result.api.allow_offline_access:
        return False
    if not context.client.allows_grant(refresh_tokens.GRANT_TYPE):
        return False
    return result.user is not None
