"""Single-use markers (assertion and DPoP ``jti``) in the shared cache.

``cache.add`` is atomic in Redis and in local memory, so of two workers seeing the same jti
exactly one wins. When the cache is unreachable we fail closed: a proof we cannot check for
replay is refused with 503 ``temporarily_unavailable`` (and ``Retry-After``) rather than
accepted, because accepting it would let an attacker replay a captured assertion or DPoP proof
for as long as the outage lasts (RFC 7523 §3 item 7, RFC 9449 §11.1).
"""

from __future__ import annotations

import logging

from oauth_token.core import cache
from oauth_token.errors import TemporarilyUnavailable

logger = logging.getLogger("oauth_token")


def first_use(namespace: str, value: str, ttl: int) -> bool:
    """True the first time (namespace, value) is seen within ``ttl`` seconds."""
    marker, seconds = cache.key("jti", namespace, value), max(1, ttl)
    try:
        store = cache.shared_cache()
        client = cache.redis_client(store)
        if client is None:
            added = bool(store.add(marker, 1, seconds))
        else:
            # What RedisCache.add sends (same key, same value), without its layers: this
            # round trip is on every private_key_jwt and DPoP request.
            added = bool(client.set(store.make_and_validate_key(marker), 1, ex=seconds, nx=True))
    except Exception as exc:
        cache.report_failure(exc)
        logger.error(
            "oauth_token replay cache unavailable (%s); refusing a %s that needs it",
            type(exc).__name__,
            namespace,
        )
        raise TemporarilyUnavailable("The replay cache is unavailable; retry later.") from exc
    cache.report_success()
    return added
