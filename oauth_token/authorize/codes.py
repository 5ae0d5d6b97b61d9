"""Authorization codes: issued by /authorize, redeemed once at the token endpoint.

RFC 6749 §4.1.2 and §10.5: a code is short-lived, single use and bound to the client and
redirect_uri; RFC 7636 binds it to the PKCE challenge. The code itself (256 random bits) is
given to the client only; the database keeps its SHA-256, so a leaked table redeems nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from oauth_token.authorize.validation import AuthorizationRequest
from oauth_token.conf import oauth_settings
from oauth_token.core import secrets
from oauth_token.models import AuthorizationCode, RefreshTokenFamily
from oauth_token.tokens.refresh_tokens import revoke_family
from oauth_token.tokens.revocation import revoke_access_tokens

logger = logging.getLogger("oauth_token")


def issue_code(request: AuthorizationRequest, user: Any, auth_time: int) -> str:
    """Store a new code bound to everything the token request must match; return the code."""
    code = secrets.new_secret(32)
    now = timezone.now()
    AuthorizationCode.objects.create(
        code_digest=secrets.digest(code),
        client_id=request.client.pk,
        user=user,
        redirect_uri=request.target.redirect_uri if request.redirect_uri_sent else "",
        scopes=list(request.scopes),
        audience=request.audience,
        nonce=request.nonce or "",
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        dpop_jkt=request.dpop_jkt,
        auth_time=datetime.fromtimestamp(auth_time, tz=UTC),
        expires_at=now + timedelta(seconds=int(oauth_settings.AUTHORIZATION_CODE_LIFETIME)),
    )
    return code


def find(code: str) -> AuthorizationCode | None:
    if not isinstance(code, str) or len(code) > 256:
        return None
    return (
        AuthorizationCode.objects.select_related("client", "user")
        .filter(code_digest=secrets.digest(code))
        .first()
    )


def consume(row: AuthorizationCode) -> bool:
    """Mark the code used in one conditional UPDATE: of concurrent redemptions exactly one
    sees a row change (the others wait on its row lock, then match nothing)."""
    now = timezone.now()
    won = AuthorizationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
    if won:
        row.used_at = now
    return bool(won)


def revoke_issued(code_pk: int, reason: str = "code_replay") -> None:
    """RFC 6749 §4.1.2: a code used twice revokes every token issued from it: the access token
    goes on the denylist, the refresh-token family (and its access tokens) is revoked."""
    row = (
        AuthorizationCode.objects.filter(pk=code_pk)
        .select_related("client", "refresh_family")
        .first()
    )
    if row is None:
        return
    logger.warning(
        "authorization code replayed (client %s); revoking its tokens", row.client.client_id
    )
    if row.access_token_jti and row.access_token_expires_at:
        revoke_access_tokens(
            [(row.access_token_jti, row.access_token_expires_at)],
            client_id=row.client.client_id,
            reason=reason,
        )
    family = row.refresh_family
    if family is not None:
        revoke_family(family, reason)


def record_issued(
    row: AuthorizationCode, jti: str, expires_at: int, family: RefreshTokenFamily | None
) -> None:
    """Remember what was issued from a redeemed code, in the redeeming transaction, so that a
    replay of the code can revoke it (RFC 6749 §4.1.2)."""
    row.access_token_jti = jti
    row.access_token_expires_at = datetime.fromtimestamp(expires_at, tz=UTC)
    row.refresh_family = family
    row.save(update_fields=["access_token_jti", "access_token_expires_at", "refresh_family"])
