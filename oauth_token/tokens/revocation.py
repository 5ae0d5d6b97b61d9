"""The access-token denylist: revoking a JWT means remembering its ``jti`` until it expires.

Writes go to the database (durable, shared by every worker); reads go through the shared cache
because resource servers may consult the list on every request. A revocation deletes the
cached answer, so every worker sharing the cache sees it on its next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from oauth_token import signals
from oauth_token.core import cache
from oauth_token.models import RevokedAccessToken
from oauth_token.signals import send_after_commit

_NO, _YES = 0, 1


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
    more, such as a refresh family, sends one event for all of it)."""
    now = timezone.now()
    rows = [
        RevokedAccessToken(jti=jti, expires_at=exp, client_id=client_id, reason=reason[:64])
        for jti, exp in tokens
        if jti and exp > now
    ]
    if not rows:
        return 0
    RevokedAccessToken.objects.bulk_create(rows, ignore_conflicts=True)
    cache.delete(*[_cache_key(r.jti) for r in rows])
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


def is_revoked(jti: str) -> bool:
    key = _cache_key(jti)
    hit = cache.get(key)
    if hit in (_NO, _YES):
        return hit == _YES
    revoked = RevokedAccessToken.objects.filter(jti=jti).exists()
    cache.set(key, _YES if revoked else _NO)
    return revoked
