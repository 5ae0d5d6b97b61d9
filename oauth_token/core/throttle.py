"""Failure counters in the shared cache (fixed windows), for brute-force protection.

A counter starts at the first failure and lives for ``window`` seconds; ``cache.add`` then
``cache.incr`` are atomic in Redis and in local memory, so workers sharing the cache share the
count. When the cache is unreachable the throttle fails closed (503): a guessable secret must
not become guessable at full speed because Redis is down.
"""

from __future__ import annotations

import logging

from oauth_token.core import cache
from oauth_token.errors import TemporarilyUnavailable

logger = logging.getLogger("oauth_token")


def _key(namespace: str, subject: str) -> str:
    return cache.key("throttle", namespace, subject)


def _unavailable(exc: Exception) -> TemporarilyUnavailable:
    logger.error("oauth_token throttle cache unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailable("The throttle cache is unavailable; retry later.")


def failures(namespace: str, subject: str) -> int:
    """Failures recorded for ``subject`` in its current window."""
    try:
        value = cache.shared_cache().get(_key(namespace, subject))
    except Exception as exc:
        raise _unavailable(exc) from exc
    return int(value or 0)


def record_failure(namespace: str, subject: str, window: int) -> int:
    """Count one failure; returns the count in the current window."""
    key = _key(namespace, subject)
    try:
        backend = cache.shared_cache()
        backend.add(key, 0, max(1, window))
        try:
            return int(backend.incr(key))
        except ValueError:  # expired between add and incr: start a new window
            backend.add(key, 1, max(1, window))
            return 1
    except Exception as exc:
        raise _unavailable(exc) from exc


def reset(namespace: str, subject: str) -> None:
    try:
        cache.shared_cache().delete(_key(namespace, subject))
    except Exception as exc:
        raise _unavailable(exc) from exc
