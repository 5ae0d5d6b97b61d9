"""Refresh-token families: issuing, rotating, finding and revoking (RFC 6749 §6, §10.4;
RFC 9700 §4.14; RFC 9449 §5).

Values are opaque and 256 bits strong; only their SHA-256 digest is stored. The first token of
a family is random. Each successor is *derived*: HMAC-SHA256, under a key derived from the
key-encryption key, of its parent's value. That lets the reuse leeway (Auth0's "reuse
interval") hand a racing client the very successor the first request received without the
server ever storing that successor, in plaintext or sealed: recomputing it needs both the
parent value the client presents and the server's key, and the result is checked against the
successor's stored digest.

Who calls what:
- ``issuance.issue`` calls :func:`issue_refresh_token` after minting the access token. It
  starts a new family when the grant is eligible, or continues one handed over by the
  refresh_token grant in ``GrantResult.refresh_family`` (a :class:`Rotation`).
- :func:`revoke_family` revokes every refresh token of a family and denylists the access
  tokens issued from it (reuse detection, code replay, /oauth/revoke, the admin).
- :func:`find`, :func:`is_active` and :func:`revoke_token` serve revocation and introspection.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import jose, secrets
from .conf import oauth_settings
from .keyring import encryption_keys
from .models import RefreshFamilyAccessToken, RefreshToken, RefreshTokenFamily
from .revocation import revoke_access_tokens

if TYPE_CHECKING:
    from .grants.base import GrantResult, TokenContext
    from .issuance import AccessToken, IssuedTokens

OFFLINE_ACCESS = "offline_access"
GRANT_TYPE = "refresh_token"
MAX_TOKEN_LENGTH = 512
_SUCCESSOR_PURPOSE = b"refresh-token-successor"

# What issuance does with a family handed over by the refresh_token grant.
ROTATE = "rotate"  # consume the presented token, issue its successor
REPLAY = "replay"  # within the reuse leeway: return the successor already issued
KEEP = "keep"  # rotation off: the presented token stays valid, none is returned


@dataclass(frozen=True)
class Rotation:
    """The family a refresh_token request continues (``GrantResult.refresh_family``)."""

    family: RefreshTokenFamily
    parent: RefreshToken
    presented: str = field(repr=False)
    action: str = ROTATE


# --- settings -------------------------------------------------------------------------------


def _seconds(name: str) -> timedelta | None:
    value = getattr(oauth_settings, name)
    return timedelta(seconds=int(value)) if value else None


def absolute_lifetime() -> timedelta | None:
    return _seconds("REFRESH_TOKEN_ABSOLUTE_LIFETIME")


def idle_lifetime() -> timedelta | None:
    return _seconds("REFRESH_TOKEN_IDLE_LIFETIME")


def reuse_leeway() -> timedelta:
    return timedelta(seconds=int(oauth_settings.REFRESH_TOKEN_REUSE_LEEWAY or 0))


def rotation_enabled() -> bool:
    return bool(oauth_settings.REFRESH_TOKEN_ROTATION)


def idle_expiry(family: RefreshTokenFamily, now: datetime) -> datetime | None:
    """Inactivity deadline of a token used or issued at ``now``, never past the family's."""
    idle = idle_lifetime()
    if idle is None:
        return family.expires_at
    deadline = now + idle
    return min(deadline, family.expires_at) if family.expires_at else deadline


# --- values ---------------------------------------------------------------------------------


def successor_value(parent_value: str, family_id: int, kek: str | None = None) -> str:
    """The successor of ``parent_value``: HMAC-SHA256 under a purpose-bound key (RFC 6749
    §10.10: unguessable without the server's key, 256 bits like a random value)."""
    key = jose.derive_key(kek or encryption_keys()[0], _SUCCESSOR_PURPOSE)
    message = f"{family_id}\x00{parent_value}".encode("utf-8", "surrogatepass")
    return jose.b64url(hmac.new(key, message, "sha256").digest())


def recover_successor(parent: RefreshToken, parent_value: str) -> str | None:
    """The value of ``parent``'s successor, recomputed and checked against its digest (with
    older key-encryption keys too, so a KEK rotation does not break the leeway)."""
    successor = RefreshToken.objects.filter(parent=parent).first()
    if successor is None:
        return None
    for kek in encryption_keys():
        value = successor_value(parent_value, parent.family_id, kek)
        if secrets.matches(value, successor.token_digest):
            return value
    return None


def find(value: Any) -> RefreshToken | None:
    """The row of a presented refresh token (with its family), or None."""
    if not isinstance(value, str) or not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return (
        RefreshToken.objects.select_related("family", "family__client", "family__user")
        .filter(token_digest=secrets.digest(value))
        .first()
    )


def is_active(token: RefreshToken, now: datetime | None = None) -> bool:
    """Whether ``token`` would be accepted by the refresh_token grant (RFC 7662 ``active``)."""
    now = now or timezone.now()
    family = token.family
    user = family.user
    return not (
        family.is_revoked()
        or family.is_expired(now)
        or token.used_at is not None
        or token.is_idle_expired(now)
        or (user is not None and not user.is_active)
        or not family.client.is_active
    )


# --- issuing --------------------------------------------------------------------------------


def is_eligible(result: GrantResult, context: TokenContext) -> bool:
    """A new family only when ``offline_access`` was granted (OIDC Core §11), the API allows
    offline access (no API: an OpenID-only grant, allowed), the client may use the
    refresh_token grant, and there is a user (or the grant says a user-less family is fine)."""
    if not result.has_scope(OFFLINE_ACCESS):
        return False
    if result.api is not None and not result.api.allow_offline_access:
        return False
    if not context.client.allows_grant(GRANT_TYPE):
        return False
    return result.user is not None or bool(getattr(result, "allow_refresh_without_user", False))


def dpop_binding(context: TokenContext) -> str | None:
    """RFC 9449 §5: a public client's refresh tokens are bound to the key of its DPoP proof;
    a confidential client's only when OAUTH_TOKEN['DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS'] (or
    the client's own ``dpop_bound_refresh`` flag) says so, since it authenticates anyway."""
    if not context.dpop_jkt:
        return None
    client = context.client
    if (
        client.is_public
        or oauth_settings.DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS
        or client.extra.get("dpop_bound_refresh")
    ):
        return context.dpop_jkt
    return None


def issue_refresh_token(result: GrantResult, context: TokenContext, issued: IssuedTokens) -> None:
    """Issuance step: set ``issued.refresh_token`` when the grant is eligible for one, or
    continue the family the refresh_token grant handed over."""
    handoff = result.refresh_family
    if handoff is not None:
        if not isinstance(handoff, Rotation):
            raise TypeError("GrantResult.refresh_family must be a refresh_tokens.Rotation.")
        issued.refresh_token = _continue_family(handoff, issued.access_token)
        return
    if not is_eligible(result, context):
        return
    family = start_family(result, context)
    issued.refresh_token = _new_token(family, parent=None, value=secrets.new_secret(32))
    record_access_token(family, issued.access_token)


def start_family(result: GrantResult, context: TokenContext) -> RefreshTokenFamily:
    now = timezone.now()
    lifetime = absolute_lifetime()
    return RefreshTokenFamily.objects.create(
        client_id=context.client.pk,
        user=result.user,
        subject=result.subject,
        audience=result.api.identifier if result.api else "",
        scopes=list(result.scopes),
        extra_claims=dict(result.extra_claims),
        auth_time=(
            datetime.fromtimestamp(result.auth_time, tz=UTC)
            if result.auth_time is not None
            else None
        ),
        grant_type=context.request.get("grant_type") or "",
        dpop_jkt=dpop_binding(context),
        created_at=now,
        expires_at=now + lifetime if lifetime else None,
    )


def _new_token(family: RefreshTokenFamily, parent: RefreshToken | None, value: str) -> str:
    now = timezone.now()
    RefreshToken.objects.create(
        family=family,
        parent=parent,
        token_digest=secrets.digest(value),
        created_at=now,
        idle_expires_at=idle_expiry(family, now),
    )
    return value


def _continue_family(rotation: Rotation, access: AccessToken) -> str | None:
    family = rotation.family
    record_access_token(family, access)
    if rotation.action == KEEP:
        return None
    if rotation.action == REPLAY:
        value = recover_successor(rotation.parent, rotation.presented)
        if value is None:
            raise RuntimeError("The refresh_token grant handed over a replay with no successor.")
        return value
    value = successor_value(rotation.presented, family.pk)
    return _new_token(family, parent=rotation.parent, value=value)


def record_access_token(family: RefreshTokenFamily, access: AccessToken) -> None:
    """Remember an access token issued from ``family`` until it expires."""
    RefreshFamilyAccessToken.objects.create(
        family=family,
        jti=access.jti,
        expires_at=datetime.fromtimestamp(int(access.claims["exp"]), tz=UTC),
    )


# --- revoking -------------------------------------------------------------------------------


def revoke_family(family: RefreshTokenFamily, reason: str) -> int:
    """Revoke every refresh token of ``family`` and denylist the access tokens issued from it
    (RFC 9700 §4.14.2, RFC 7009 §2.1). Idempotent; returns how many access tokens it listed.

    Locks the family row first: a rotation in flight (which holds that lock) finishes and its
    access token is listed here, or it waits and then finds the family revoked."""
    with transaction.atomic():
        now = timezone.now()
        locked = RefreshTokenFamily.objects.select_for_update().filter(pk=family.pk).first()
        if locked is None:
            return 0
        if locked.revoked_at is None:
            locked.revoked_at, locked.revoked_reason = now, reason[:64]
            locked.save(update_fields=["revoked_at", "revoked_reason"])
        pairs = list(
            RefreshFamilyAccessToken.objects.filter(family=locked, expires_at__gt=now).values_list(
                "jti", "expires_at"
            )
        )
        client_id = locked.client.client_id
        listed = revoke_access_tokens(pairs, client_id=client_id, reason=f"refresh:{reason}")
    family.revoked_at, family.revoked_reason = locked.revoked_at, locked.revoked_reason
    return listed


def revoke_families(reason: str, **filters: Any) -> int:
    """Revoke every live family matching ``filters`` (e.g. ``user=`` or ``client=``)."""
    families = RefreshTokenFamily.objects.filter(revoked_at__isnull=True, **filters)
    return sum(revoke_family(f, reason) for f in families.order_by("pk"))


def revoke_token(value: str, client_id: str) -> bool | None:
    """RFC 7009 §2.1 for a refresh token: revokes its whole family (and the family's access
    tokens). None: not a refresh token we know; False: issued to another client."""
    token = find(value)
    if token is None:
        return None
    if not hmac.compare_digest(token.family.client.client_id, client_id):
        return False
    revoke_family(token.family, "revoked by client")
    return True


# --- cleanup --------------------------------------------------------------------------------


def dead_families(now: datetime | None = None) -> Any:
    """Families that can issue nothing more and have no unexpired access token left to
    revoke: revoked, past their absolute expiry, or with no live refresh token."""
    now = now or timezone.now()
    live_token = RefreshToken.objects.filter(family=OuterRef("pk"), used_at__isnull=True).filter(
        Q(idle_expires_at__isnull=True) | Q(idle_expires_at__gt=now)
    )
    live_access = RefreshFamilyAccessToken.objects.filter(family=OuterRef("pk"), expires_at__gt=now)
    return (
        RefreshTokenFamily.objects.filter(
            Q(revoked_at__isnull=False) | Q(expires_at__lte=now) | ~Exists(live_token)
        )
        .filter(~Exists(live_access))
        .order_by("pk")
    )
