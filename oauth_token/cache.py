"""Access to the shared cache (Django's cache framework, alias from settings).

Lookups degrade to the database when the cache is down; replay caches fail closed.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import BaseCache, caches

from .conf import oauth_settings

logger = logging.getLogger("oauth_token")


def shared_cache() -> BaseCache:
    return caches[oauth_settings.CACHE_ALIAS]


def key(*parts: str) -> str:
    """A cache key safe for every backend: client-supplied parts are hashed."""
    prefix = oauth_settings.CACHE_KEY_PREFIX
    head, *rest = parts
    if not rest:
        return f"{prefix}:{head}"
    tail = hashlib.sha256("\x00".join(rest).encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{prefix}:{head}:{tail}"


def get(cache_key: str) -> Any:
    """``cache.get`` that treats an unreachable cache as a miss (the database answers instead)."""
    try:
        return shared_cache().get(cache_key)
    except Exception:
        logger.warning("oauth_token cache unavailable; reading from the database")
        return None


def set(cache_key: str, value: Any, timeout: int | None = None) -> None:
    try:
        shared_cache().set(cache_key, value, timeout or oauth_settings.LOOKUP_CACHE_SECONDS)
    except Exception:
        logger.warning("oauth_token cache unavailable; value not cached")


def delete(*cache_keys: str) -> None:
    try:
        shared_cache().delete_many(list(cache_keys))
    except Exception:
        logger.warning("oauth_token cache unavailable; could not invalidate")
