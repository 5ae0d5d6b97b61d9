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
from oauth_token.core import rows, secrets
from oauth_token.errors import InvalidGrant, OAuthError
from oauth_token.models import AuthorizationCode, RefreshTokenFamily
from oauth_token.tokens.refresh_tokens import revoke_family
from oauth_token.tokens.revocation import revoke_access_tokens

logger = logging.getLogger("oauth_token")


def issue_code(request: AuthorizationRequest, user: Any, auth_time: int, sid: str = "") -> str:
    """Store a new code bound to everything the token request must match, and to the browser
    session it was issued in (``sid``); return the code."""
    code = secrets.new_secret(32)
    now = timezone.now()
    AuthorizationCode.objects.create(
        code_digest=secrets.digest(code),
        client_id=request.client.pk,
        user=user,
        redirect_uri=request.target.redirect_uri if request.redirect_uri_sent else "",
        scopes=list(request.scopes),
        audience=request.audience,
        resources=[api.identifier for api in request.apis] if request.more_apis else [],
        nonce=request.nonce or "",
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        dpop_jkt=request.dpop_jkt,
        auth_time=datetime.fromtimestamp(auth_time, tz=UTC),
        sid=sid,
        expires_at=now + timedelta(seconds=int(oauth_settings.AUTHORIZATION_CODE_LIFETIME)),
    )
    return code


def find(code: str) -> AuthorizationCode | None:
    """The code's row with its user (the client is the authenticated one, already in hand).
    Read without a lock: :func:`record_issued` consumes it conditionally at the end."""
    if not isinstance(code, str) or len(code) > 256:
        return None
    found = _FIND.get(secrets.digest(code))
    return found if isinstance(found, AuthorizationCode) else None


# The redemption's statements, compiled once per process (``core/rows.py``). The code's
# columns the grant reads: not its digest, creation time and the record of what was issued
# from it (written by :func:`record_issued`, read only by a replay's :func:`revoke_issued`,
# which reads the row again); the user whole (claims functions receive it).
_FIND = rows.RowSelect(
    AuthorizationCode,
    by="code_digest",
    related=("user",),
    only={
        "": (
            "client",
            "redirect_uri",
            "scopes",
            "audience",
            "resources",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "dpop_jkt",
            "auth_time",
            "sid",
            "expires_at",
            "used_at",
        )
    },
)
_CONSUME = rows.GuardedUpdate(
    AuthorizationCode,
    assign=("used_at", "access_token_jti", "access_token_expires_at", "refresh_family"),
    unset=("used_at",),
)


def replayed(code_pk: int) -> OAuthError:
    """RFC 6749 §4.1.2: deny, and revoke every token issued from the code once the refused
    request's transaction has rolled back."""
    return InvalidGrant("The authorization code has already been used.").then(
        lambda: revoke_issued(code_pk)
    )


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
    """Consume the code and remember what it produced, in one conditional UPDATE at the end
    of the redeeming transaction: of concurrent redemptions exactly one sees a row change
    (the others wait on its row lock, then match nothing, and are a replay, RFC 6749 §4.1.2);
    what was issued is recorded so that a replay can revoke it."""
    now = timezone.now()
    recorded = {
        "access_token_jti": jti,
        "access_token_expires_at": datetime.fromtimestamp(expires_at, tz=UTC),
        "refresh_family": family,
    }
    won = _CONSUME.run(
        row.pk, {**recorded, "used_at": now, "refresh_family": family.pk if family else None}
    )
    if not won:
        raise replayed(row.pk)
    row.used_at = now
    for name, value in recorded.items():
        setattr(row, name, value)


def revoke_issued_to(user_id: Any, client_pk: int, reason: str) -> int:
    """Denylist every unexpired access token issued from this person's codes for this client
    (consent withdrawn, RFC 7009 §2.1); their refresh families are revoked by the caller."""
    pairs = list(
        AuthorizationCode.objects.filter(
            user_id=user_id, client_id=client_pk, access_token_expires_at__gt=timezone.now()
        )
        .exclude(access_token_jti="")
        .values_list("access_token_jti", "access_token_expires_at", "client__client_id")
    )
    if not pairs:
        return 0
    return revoke_access_tokens(
        [(jti, exp) for jti, exp, _ in pairs if exp is not None],
        client_id=pairs[0][2],
        reason=reason,
    )
