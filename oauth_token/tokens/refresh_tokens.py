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
- The refresh_token grant decides what a presented token leads to and calls
  :func:`continue_family`, which derives the successor's value (or recovers it within the
  leeway).
- Issuance, once it has minted the access token, stores what it issued: a new family with its
  first token (:func:`start_family`) or a rotated family's successor (:func:`store_successor`),
  each refresh-token row carrying the access token issued with it; an access token issued
  without a new refresh token is recorded by :func:`record_access_token`.
- :func:`revoke_family` revokes every refresh token of a family and denylists the access
  tokens issued from it (reuse detection, code replay, /oauth/revoke, the admin).
- :func:`find` and :func:`is_active` serve revocation and introspection.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import router, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from oauth_token import signals
from oauth_token.conf import oauth_settings
from oauth_token.core import jose, rows, secrets
from oauth_token.models import RefreshFamilyAccessToken, RefreshToken, RefreshTokenFamily
from oauth_token.registry.keyring import encryption_keys
from oauth_token.registry.snapshots import ClientInfo
from oauth_token.signals import send_after_commit
from oauth_token.tokens.revocation import revoke_access_tokens

OFFLINE_ACCESS = "offline_access"
GRANT_TYPE = "refresh_token"
MAX_TOKEN_LENGTH = 512
_SUCCESSOR_PURPOSE = b"refresh-token-successor"

# What a presented refresh token leads to (decided by the refresh_token grant).
ROTATE = "rotate"  # consume the presented token, issue its successor
REPLAY = "replay"  # within the reuse leeway: return the successor already issued
KEEP = "keep"  # rotation off: the presented token stays valid, none is returned


# --- settings -------------------------------------------------------------------------------


def _seconds(name: str, override: int | None = None) -> timedelta | None:
    value = getattr(oauth_settings, name) if override is None else override
    return timedelta(seconds=int(value)) if value else None


@dataclass(frozen=True)
class Lifetimes:
    """A client's refresh-token lifetimes in seconds (None: the settings'; 0: unlimited)."""

    absolute: int | None = None
    idle: int | None = None

    @classmethod
    def of(cls, client: ClientInfo | None) -> Lifetimes:
        if client is None:
            return cls()
        return cls(client.refresh_token_lifetime, client.refresh_idle_lifetime)


def absolute_lifetime(lifetimes: Lifetimes = Lifetimes()) -> timedelta | None:
    return _seconds("REFRESH_TOKEN_ABSOLUTE_LIFETIME", lifetimes.absolute)


def idle_lifetime(lifetimes: Lifetimes = Lifetimes()) -> timedelta | None:
    return _seconds("REFRESH_TOKEN_IDLE_LIFETIME", lifetimes.idle)


def reuse_leeway() -> timedelta:
    return timedelta(seconds=int(oauth_settings.REFRESH_TOKEN_REUSE_LEEWAY or 0))


def rotation_enabled() -> bool:
    return bool(oauth_settings.REFRESH_TOKEN_ROTATION)


def idle_expiry(
    family: RefreshTokenFamily, now: datetime, lifetimes: Lifetimes = Lifetimes()
) -> datetime | None:
    """Inactivity deadline of a token used or issued at ``now``, never past the family's."""
    idle = idle_lifetime(lifetimes)
    if idle is None:
        return family.expires_at
    deadline = now + idle
    return min(deadline, family.expires_at) if family.expires_at else deadline


# --- values ---------------------------------------------------------------------------------


def successor_value(parent_value: str, family_id: int, kek: str | None = None) -> str:
    """The successor of ``parent_value``: HMAC-SHA256 under a purpose-bound key (RFC 6749
    §10.10: unguessable without the server's key, 256 bits like a random value)."""
    key = _successor_key(kek or encryption_keys()[0])
    message = f"{family_id}\x00{parent_value}".encode("utf-8", "surrogatepass")
    return jose.b64url(hmac.new(key, message, "sha256").digest())


@functools.lru_cache(maxsize=8)
def _successor_key(kek: str) -> bytes:
    """The successor HMAC key of one key-encryption key, derived once per process (HKDF is a
    pure function of the KEK; the KEK itself is already held in memory for key sealing)."""
    return jose.derive_key(kek, _SUCCESSOR_PURPOSE)


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
    """The row of a presented refresh token (with its family, client and user), or None
    (revocation, introspection)."""
    if not isinstance(value, str) or not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    queryset = RefreshToken.objects.select_related("family", "family__client", "family__user")
    try:
        return queryset.get(token_digest=secrets.digest(value))
    except RefreshToken.DoesNotExist:
        return None


def find_for_grant(value: str, *, lock: bool) -> RefreshToken | None:
    """The refresh_token grant's lookup: the token with its family and the family's user (not
    the client: the authenticated one is in hand), in one statement.

    Without ``lock`` (the usual path) nothing is locked and no transaction is open: the grant
    signs first and :func:`claim` then consumes the token with a guarded UPDATE. With ``lock``
    (inside a transaction, after such a claim lost a race) the family is locked first and then
    the token with it, so concurrent uses of one token serialise and a family's revocation
    waits for a rotation in flight. Family before token is the order a claim takes them in
    (its guard share-locks the family, then the UPDATE locks the token): locking the token
    first would deadlock against a claim still waiting for it."""
    if not isinstance(value, str) or not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    digest = secrets.digest(value)
    found = _FIND_FOR_GRANT.get(digest)
    if lock and isinstance(found, RefreshToken):
        family = RefreshTokenFamily.objects.select_for_update().filter(pk=found.family_id)
        if not list(family.values_list("pk", flat=True)):
            return None
        found = _FIND_AND_LOCK.get(digest)
    return found if isinstance(found, RefreshToken) else None


# The refresh_token grant's statements, compiled once (``core/rows.py``: compiling this SELECT
# through the ORM cost more CPU than anything else a refresh does but the signature).
#
# The columns the grant and issuance read (or their reuse, leeway and revocation paths):
# not the token's digest, parent, creation and access-token record, nor the family's creation,
# original grant and revocation reason (assigned when revoking, never read). Every column
# loaded is a value the server formats, the driver parses and the model instance sets; a
# column left out that something reads after all is loaded by a query of its own (deferred,
# ``RowSelect``), which the statement budgets in tests/performance would show. The user
# keeps every column: claims functions and hooks receive the instance.
_GRANT_COLUMNS = {
    "": ("used_at", "idle_expires_at"),
    "family": (
        "client",
        "subject",
        "audience",
        "resources",
        "scopes",
        "extra_claims",
        "auth_time",
        "sid",
        "dpop_jkt",
        "expires_at",
        "revoked_at",
    ),
}
_FIND_FOR_GRANT = rows.RowSelect(
    RefreshToken, by="token_digest", related=("family", "family__user"), only=_GRANT_COLUMNS
)
_FIND_AND_LOCK = rows.RowSelect(
    RefreshToken,
    by="token_digest",
    related=("family", "family__user"),
    lock_of=("", "family"),
    only=_GRANT_COLUMNS,
)
CONSUME = rows.GuardedUpdate(RefreshToken, assign=("used_at", "last_used_at"), unset=("used_at",))
# The optimistic path's claims: the token still unused and its family still not revoked
# (the family row locked until commit, so a revocation cannot slip between claim and commit).
_CLAIM_ROTATION = rows.GuardedUpdate(
    RefreshToken,
    assign=("used_at", "last_used_at"),
    unset=("used_at",),
    live_parent=("family", "revoked_at"),
)
_CLAIM_KEEP = rows.GuardedUpdate(
    RefreshToken,
    assign=("last_used_at", "idle_expires_at"),
    unset=("used_at",),
    live_parent=("family", "revoked_at"),
)
_INSERT_FAMILY = rows.RowInsert(RefreshTokenFamily, returning_pk=True)
_INSERT_TOKEN = rows.RowInsert(RefreshToken)
_INSERT_ACCESS_TOKEN = rows.RowInsert(RefreshFamilyAccessToken)
_ROTATE = rows.ClaimThenInsert(_CLAIM_ROTATION, _INSERT_TOKEN)


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


def dpop_binding(client: ClientInfo, dpop_jkt: str | None) -> str | None:
    """RFC 9449 §5: a public client's refresh tokens are bound to the key of its DPoP proof;
    a confidential client's only when OAUTH_TOKEN['DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS']
    says so, since it authenticates anyway."""
    if not dpop_jkt:
        return None
    if client.is_public or oauth_settings.DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS:
        return dpop_jkt
    return None


def start_family(
    *,
    client_pk: int,
    user: Any,
    subject: str,
    audience: str,
    scopes: tuple[str, ...],
    extra_claims: dict[str, Any],
    resources: tuple[str, ...] = (),
    auth_time: int | None,
    grant_type: str,
    dpop_jkt: str | None,
    lifetimes: Lifetimes = Lifetimes(),
    sid: str = "",
    access: IssuedWith | None = None,
) -> tuple[RefreshTokenFamily, str]:
    """A new family and its first refresh token (random, 256 bits); returns both. The
    family's absolute expiry is fixed now, from the client's lifetime or the settings'."""
    now = timezone.now()
    lifetime = absolute_lifetime(lifetimes)
    family = RefreshTokenFamily(
        client_id=client_pk,
        user=user,
        subject=subject,
        audience=audience,
        resources=list(resources),
        scopes=list(scopes),
        extra_claims=dict(extra_claims),
        auth_time=datetime.fromtimestamp(auth_time, tz=UTC) if auth_time is not None else None,
        grant_type=grant_type,
        dpop_jkt=dpop_jkt,
        sid=sid,
        created_at=now,
        expires_at=now + lifetime if lifetime else None,
    )
    _INSERT_FAMILY.save_new(family)
    return family, _new_token(family, None, secrets.new_secret(32), lifetimes, access)


@dataclass(frozen=True)
class IssuedWith:
    """The access token issued together with a refresh token (its ``jti`` and ``exp``)."""

    jti: str
    expires_at: int


def _new_token(
    family: RefreshTokenFamily,
    parent: RefreshToken | None,
    value: str,
    lifetimes: Lifetimes,
    access: IssuedWith | None,
) -> str:
    _INSERT_TOKEN.run(_token_row(family, parent, value, lifetimes, access))
    return value


def _token_row(
    family: RefreshTokenFamily,
    parent: RefreshToken | None,
    value: str,
    lifetimes: Lifetimes,
    access: IssuedWith | None,
) -> dict[str, Any]:
    now = timezone.now()
    return {
        "family_id": family.pk,
        "parent_id": parent.pk if parent is not None else None,
        "token_digest": secrets.digest(value),
        "created_at": now,
        "idle_expires_at": idle_expiry(family, now, lifetimes),
        "access_token_jti": access.jti if access else "",
        "access_token_expires_at": (
            datetime.fromtimestamp(access.expires_at, tz=UTC) if access else None
        ),
    }


def store_successor(
    family: RefreshTokenFamily,
    parent: RefreshToken,
    value: str,
    lifetimes: Lifetimes,
    access: IssuedWith,
) -> None:
    """Store the successor :func:`continue_family` derived for a rotation, with the access
    token issued alongside it."""
    _new_token(family, parent, value, lifetimes, access)


def continue_family(
    family: RefreshTokenFamily,
    parent: RefreshToken,
    presented: str,
    action: str,
    lifetimes: Lifetimes = Lifetimes(),
) -> str | None:
    """The refresh token to return for ``presented`` once the grant decided ``action``: its
    new successor (ROTATE; derived here, stored by :func:`store_successor` once the access
    token issued with it is known), the successor issued moments ago (REPLAY), or none
    (KEEP)."""
    if action == KEEP:
        return None
    if action == REPLAY:
        value = recover_successor(parent, presented)
        if value is None:
            raise RuntimeError("A refresh-token replay was accepted without a successor.")
        return value
    return successor_value(presented, family.pk)


def claim(token: RefreshToken, *, lifetimes: Lifetimes = Lifetimes()) -> None:
    """Rotation off: mark ``token`` used now (its idle deadline moves on), in one statement,
    if it is still unused and its family still live; otherwise :class:`~oauth_token.core.
    rows.Contended`: something changed since the grant read it, and the grant decides again
    under lock (a revoked family). A rotation claims with :func:`rotate`."""
    now = timezone.now()
    family = token.family
    changed = _CLAIM_KEEP.run(
        token.pk,
        {"last_used_at": now, "idle_expires_at": idle_expiry(family, now, lifetimes)},
        parent_pk=family.pk,
    )
    if changed != 1:
        raise rows.Contended("the refresh token changed since it was read")
    token.last_used_at = now


def rotates_in_one_statement() -> bool:
    """Whether :func:`rotate` is one atomic statement here (PostgreSQL), needing no
    transaction around it."""
    return _ROTATE.one_statement(router.db_for_write(RefreshToken))


def rotate(token: RefreshToken, value: str, lifetimes: Lifetimes, access: IssuedWith) -> None:
    """:func:`claim` for a rotation and :func:`store_successor` together: the token is consumed
    only while unused and its family live, and its successor (``value``, recording the access
    token issued with it) is stored only if it was; on PostgreSQL as one statement.
    :class:`~oauth_token.core.rows.Contended` when the claim matched nothing."""
    now = timezone.now()
    family = token.family
    stored = _ROTATE.run(
        token.pk,
        {"used_at": now, "last_used_at": now},
        _token_row(family, token, value, lifetimes, access),
        parent_pk=family.pk,
    )
    if stored != 1:
        raise rows.Contended("the refresh token changed since it was read")
    token.used_at = token.last_used_at = now


def record_access_token(family: RefreshTokenFamily, jti: str, expires_at: int) -> None:
    """Remember an access token issued from ``family`` until it expires."""
    _INSERT_ACCESS_TOKEN.run(
        {
            "family_id": family.pk,
            "jti": jti,
            "expires_at": datetime.fromtimestamp(expires_at, tz=UTC),
            "created_at": timezone.now(),
        }
    )


# --- revoking -------------------------------------------------------------------------------


def issued_access_tokens(
    family: RefreshTokenFamily, now: datetime | None = None
) -> list[tuple[str, datetime]]:
    """(jti, expiry) of every unexpired access token issued from ``family``, in one query:
    those recorded on its refresh-token rows and those recorded on their own."""
    now = now or timezone.now()
    on_tokens = (
        RefreshToken.objects.filter(family=family, access_token_expires_at__gt=now)
        .exclude(access_token_jti="")
        .order_by()
        .values_list("access_token_jti", "access_token_expires_at")
    )
    on_their_own = (
        RefreshFamilyAccessToken.objects.filter(family=family, expires_at__gt=now)
        .order_by()
        .values_list("jti", "expires_at")
    )
    both = on_tokens.union(on_their_own, all=True)
    return [(jti, expires_at) for jti, expires_at in both if expires_at is not None]


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
        newly_revoked = locked.revoked_at is None
        if newly_revoked:
            locked.revoked_at, locked.revoked_reason = now, reason[:64]
            locked.save(update_fields=["revoked_at", "revoked_reason"])
        pairs = issued_access_tokens(locked, now)
        client_id = locked.client.client_id
        listed = revoke_access_tokens(
            pairs, client_id=client_id, reason=f"refresh:{reason}", notify=False
        )
        if newly_revoked:
            send_after_commit(
                signals.tokens_revoked,
                RefreshTokenFamily,
                client_id=client_id,
                reason=reason,
                jtis=[jti for jti, _ in pairs],
                refresh_family_ids=[locked.pk],
            )
    family.revoked_at, family.revoked_reason = locked.revoked_at, locked.revoked_reason
    return listed


def revoke_families(reason: str, **filters: Any) -> int:
    """Revoke every live family matching ``filters`` (e.g. ``user=`` or ``client=``)."""
    families = RefreshTokenFamily.objects.filter(revoked_at__isnull=True, **filters)
    return sum(revoke_family(f, reason) for f in families.order_by("pk"))


# --- cleanup --------------------------------------------------------------------------------


def dead_families(now: datetime | None = None) -> Any:
    """Families that can issue nothing more and have no unexpired access token left to
    revoke: revoked, past their absolute expiry, or with no live refresh token."""
    now = now or timezone.now()
    live_token = RefreshToken.objects.filter(family=OuterRef("pk"), used_at__isnull=True).filter(
        Q(idle_expires_at__isnull=True) | Q(idle_expires_at__gt=now)
    )
    live_access = RefreshFamilyAccessToken.objects.filter(family=OuterRef("pk"), expires_at__gt=now)
    live_access_on_token = RefreshToken.objects.filter(
        family=OuterRef("pk"), access_token_expires_at__gt=now
    )
    return (
        RefreshTokenFamily.objects.filter(
            Q(revoked_at__isnull=False) | Q(expires_at__lte=now) | ~Exists(live_token)
        )
        .filter(~Exists(live_access), ~Exists(live_access_on_token))
        .order_by("pk")
    )


# --- deletions ------------------------------------------------------------------------------


def revoke_for_deleted_client(instance: Any, **kwargs: Any) -> None:
    """``pre_delete`` of a client deletes its families; revoke them first so the access tokens
    they issued are denylisted rather than forgotten (RFC 7009 §2.1)."""
    revoke_families("client deleted", client=instance)


def revoke_for_deleted_user(instance: Any, **kwargs: Any) -> None:
    """``pre_delete`` of a user: the same, for the user's families."""
    revoke_families("user deleted", user=instance)
