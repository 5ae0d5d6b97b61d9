"""The access-token denylist: revoking a JWT means remembering its ``jti`` until it expires.

Writes go to the database (durable, shared by every worker); reads go through the shared cache
because resource servers may consult the list on every request.

The cached answer changes only once the revocation is committed: a reader that consulted the
database before the commit saw "not revoked", and must not be able to leave that answer in the
cache for LOOKUP_CACHE_SECONDS. So "not revoked" is cached with ``add`` (never overwriting),
and after the commit the revoked ``jti``s are invalidated and then cached as revoked with
``set``, which overwrites whatever a concurrent reader stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from oauth_token import signals
from oauth_token.core import cache
from oauth_token.models import RevokedAccessToken
from oauth_token.signals import send_after_commit

_NO, _YES = 0, 1
# An exchanged token names the tokens it was exchanged from (RFC 8693 lineage) in this
# claim; a chain longer than MAX_EXCHANGE_DEPTH is refused at exchange time.
LINEAGE_CLAIM = "exchanged_from"
MAX_EXCHANGE_DEPTH = 8


def _cache_key(jti: str) -> str:
    return cache.key("revoked", jti)


def revoke_access_tokens(
    tokens: Iterable[tuple[str, datetime]],
    *,
    client_id: str = "",
    reason: str = "",
    notify: bool = True,
) -> int:
    """Denylist (jti, expires_at) pairs; already-expired or already-listed ones are skipped.
    ``tokens_revoked`` is sent after commit unless ``notify`` is False (a caller that revokes
    more, such as a refresh family, sends one event for all of it). Tokens exchanged from a
    listed one are revoked with it: they name it in their lineage claim, which
    :func:`is_token_revoked` consults."""
    now = timezone.now()
    rows = [
        RevokedAccessToken(jti=jti, expires_at=exp, client_id=client_id, reason=reason[:64])
        for jti, exp in tokens
        if jti and exp > now
    ]
    if not rows:
        return 0
    RevokedAccessToken.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [_cache_key(r.jti) for r in rows]
    cache.delete(*keys)  # this transaction's own later reads see the row
    transaction.on_commit(lambda: _publish(keys))
    if notify:
        send_after_commit(
            signals.tokens_revoked,
            RevokedAccessToken,
            client_id=client_id,
            reason=reason,
            jtis=[r.jti for r in rows],
            refresh_family_ids=[],
        )
    return len(rows)


def _publish(keys: list[str]) -> None:
    cache.delete(*keys)  # retried after an outage, so no stale "not revoked" survives one
    for key in keys:
        cache.set(key, _YES)


def is_revoked(jti: str) -> bool:
    key = _cache_key(jti)
    hit = cache.get(key)
    if hit in (_NO, _YES):
        return hit == _YES
    revoked = RevokedAccessToken.objects.filter(jti=jti).exists()
    if revoked:
        cache.set(key, _YES)
    else:
        cache.add(key, _NO)
    return revoked


def lineage(claims: Mapping[str, Any]) -> list[str]:
    """The jtis an access token of ours was exchanged from, oldest first (none for others)."""
    chain = claims.get(LINEAGE_CLAIM)
    if not isinstance(chain, list):
        return []
    return [j for j in chain[:MAX_EXCHANGE_DEPTH] if isinstance(j, str) and j]


def is_token_revoked(claims: Mapping[str, Any]) -> bool:
    """Whether this access token, or any token it was exchanged from, is revoked: an
    exchanged token does not outlive the revocation of its subject (RFC 8693 §1, §2.1)."""
    return any(is_revoked(jti) for jti in (claims["jti"], *lineage(claims)))
