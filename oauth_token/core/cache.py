"""Access to the shared cache (Django's cache framework, alias from settings).

Policy when the cache is unreachable (documented in README "Security"):

- Lookups (clients, APIs, grants, key set, denylist answers) are only copies of database rows,
  so they degrade to the database: the request still succeeds, a little slower.
- Single-use markers (``replay.py``) cannot be rebuilt from anywhere else, so they fail closed:
  a request that needs one is refused with 503 ``temporarily_unavailable`` + ``Retry-After``.

An outage is logged once per process when it starts and once when it ends, not once per cache
operation, so a Redis restart does not flood the log.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from django.core.cache import BaseCache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError

from oauth_token.conf import oauth_settings

logger = logging.getLogger("oauth_token")

_outage = threading.Event()
# Invalidations that could not reach the cache; retried by this process once it answers, so a
# change made during a network partition does not leave a stale copy behind in a cache that
# kept its data (bounded anyway by LOOKUP_CACHE_SECONDS if this process dies first).
_pending: set[str] = set()
_pending_lock = threading.Lock()


def shared_cache() -> BaseCache:
    return caches[oauth_settings.CACHE_ALIAS]


def redis_client(store: BaseCache) -> Any | None:
    """The redis-py client behind Django's RedisCache (writes go to its first server), or
    None for every other backend: for the few operations that Django's cache API makes two
    round trips of, or wraps in more Python than the command itself costs."""
    if not isinstance(store, RedisCache):
        return None
    return store._cache.get_client(write=True)


def key(*parts: str) -> str:
    """A cache key safe for every backend: client-supplied parts are hashed."""
    prefix = oauth_settings.CACHE_KEY_PREFIX
    head, *rest = parts
    if not rest:
        return f"{prefix}:{head}"
    tail = hashlib.sha256("\x00".join(rest).encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{prefix}:{head}:{tail}"


def report_failure(exc: BaseException) -> None:
    """Note that the cache failed; logs only the first failure of an outage."""
    if not _outage.is_set():
        _outage.set()
        logger.warning(
            "oauth_token cache unavailable (%s); lookups read from the database, "
            "replay checks refuse requests until it answers again",
            type(exc).__name__,
        )


def report_success() -> None:
    if _outage.is_set():
        _outage.clear()
        logger.warning("oauth_token cache available again")


def _retry_invalidations() -> None:
    """Before the first read after an outage: a stale copy must not be served even once."""
    with _pending_lock:
        keys = list(_pending)
        _pending.clear()
    try:
        shared_cache().delete_many(keys)
    except Exception:
        with _pending_lock:
            _pending.update(keys)
        raise


def in_outage() -> bool:
    return _outage.is_set()


def get(cache_key: str) -> Any:
    """``cache.get`` that treats an unreachable cache as a miss (the database answers instead)."""
    try:
        if _pending:
            _retry_invalidations()
        value = shared_cache().get(cache_key)
    except Exception as exc:
        report_failure(exc)
        return None
    report_success()
    return value


def set(cache_key: str, value: Any, timeout: int | None = None) -> None:
    try:
        if _pending:
            _retry_invalidations()
        shared_cache().set(cache_key, value, timeout or oauth_settings.LOOKUP_CACHE_SECONDS)
    except Exception as exc:
        report_failure(exc)
        return
    report_success()


def add(cache_key: str, value: Any, timeout: int | None = None) -> None:
    """``cache.add``: store only when absent, so an answer computed from a read that may be
    stale never overwrites a fresher one written meanwhile. Outages are a miss, as ``set``."""
    try:
        if _pending:
            _retry_invalidations()
        shared_cache().add(cache_key, value, timeout or oauth_settings.LOOKUP_CACHE_SECONDS)
    except Exception as exc:
        report_failure(exc)
        return
    report_success()


def delete(*cache_keys: str) -> None:
    """Invalidate now, or as soon as the cache answers again (see ``_pending``)."""
    try:
        shared_cache().delete_many(list(cache_keys))
    except Exception as exc:
        with _pending_lock:
            _pending.update(cache_keys)
        report_failure(exc)
        return
    report_success()


# --- process-local memo, validated by the change generation ------------------------------
#
# Clients, APIs, grants and the key set change rarely and are read on every request. Each
# process keeps them in a local dict tagged with the *change generation*; any change anywhere
# moves the generation (registry/invalidation.py), so every process drops its memo. Where the
# generation lives depends on the cache:
#
# - a shared cache (Redis, Memcached, database, file): in the cache, read at most once per
#   CHANGE_CHECK_INTERVAL seconds (default 1). A change made by another process therefore
#   applies within that bound; the process that made it drops its memo at once. Under load
#   most requests cost no round trip at all.
# - a process-local cache (Django's default LocMemCache, DummyCache): nothing this process
#   stores is seen by another, so the generation is a one-row table read on every request
#   (one primary-key SELECT), and lookups are not copied into the local cache either; a
#   change made by a shell command or another worker applies to the very next request.
#
# While the generation cannot be read the memo is bypassed entirely.

_ABSENT = object()
_MEMO_LIMIT = 10_000
_PROCESS_LOCAL = (LocMemCache, DummyCache)
_scope: ContextVar[bool] = ContextVar("oauth_token_generation_synced", default=False)


class DatabaseGeneration(Protocol):
    def read(self) -> int | None: ...

    def bump(self) -> None: ...


class _Memo:
    def __init__(self) -> None:
        self.generation: str | None = None
        self.values: dict[Hashable, Any] = {}
        self.bump_pending = False
        self.filled_at = time.monotonic()
        self.checked_at = float("-inf")


_memo = _Memo()
_database: list[DatabaseGeneration] = []
_backend_kind: list[bool] = []


def use_database_generation(store: DatabaseGeneration) -> None:
    """Where the generation lives when the cache is process-local (wired in
    ``AppConfig.ready``: core cannot import models)."""
    _database[:] = [store]


def process_local() -> bool:
    """Whether what this process stores in the cache is invisible to every other process.
    Remembered until the settings change: ``caches[alias]`` is a thread-local lookup that
    the hot path would otherwise pay on every request."""
    if not _backend_kind:
        _backend_kind.append(isinstance(shared_cache(), _PROCESS_LOCAL))
    return _backend_kind[0]


def forget_backend(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver (wired in ``AppConfig.ready``): another cache, or another
    key prefix, is another generation; nothing memoised under the old one may be served."""
    if setting in ("CACHES", "OAUTH_TOKEN"):
        _backend_kind.clear()
        _memo.values = {}
        _memo.generation = None
        _memo.checked_at = float("-inf")


def get_copy(cache_key: str) -> Any:
    """A shared copy of a database row (a lookup), or None. A process-local cache holds no
    copies: the memo already is this process's copy, and one another process cannot
    invalidate would outlive the change."""
    return None if process_local() else get(cache_key)


def set_copy(cache_key: str, value: Any, timeout: int | None = None) -> None:
    if not process_local():
        set(cache_key, value, timeout)


def _generation_key() -> str:
    return key("generation")


def _read_database_generation() -> str | None:
    if not _database:
        return None
    try:
        value = _database[0].read()
    except DatabaseError:
        return None  # not migrated yet: no memo, every lookup reads its row
    return None if value is None else f"db:{value}"


def _read_shared_generation() -> str | None:
    now = time.monotonic()
    interval = float(oauth_settings.CHANGE_CHECK_INTERVAL)
    trusted = _memo.generation is not None and not _memo.bump_pending
    if trusted and now - _memo.checked_at < interval:
        return _memo.generation
    try:
        backend = shared_cache()
        if _memo.bump_pending:
            backend.set(_generation_key(), secrets.token_hex(8), None)
            _memo.bump_pending = False
        generation = backend.get(_generation_key())
        if generation is None:
            backend.add(_generation_key(), secrets.token_hex(8), None)
            generation = backend.get(_generation_key())
    except Exception as exc:
        report_failure(exc)
        return None
    _memo.checked_at = now
    return str(generation) if generation is not None else None


def _read_generation() -> str | None:
    if process_local():
        return _read_database_generation()
    return _read_shared_generation()


def sync_generation() -> None:
    """Drop the memo when the generation moved, and in any case after LOOKUP_CACHE_SECONDS:
    a change whose new generation never reached the cache (a process that changed a row during
    a cache partition and died before it healed) is then stale for a bounded time only."""
    generation = _read_generation()
    expired = time.monotonic() - _memo.filled_at > oauth_settings.LOOKUP_CACHE_SECONDS
    if generation is None or generation != _memo.generation or expired:
        _memo.values = {}
        _memo.generation = generation
        _memo.filled_at = time.monotonic()


def bump_generation() -> None:
    """Invalidate every process's memo (called whenever a memoised row changes): this
    process's at once, the others' on their next generation check. With a shared cache a
    failed write is retried on the next read."""
    _memo.values = {}
    _memo.generation = None
    _memo.checked_at = float("-inf")
    if process_local():
        if _database:
            _database[0].bump()
        return
    try:
        shared_cache().set(_generation_key(), secrets.token_hex(8), None)
    except Exception as exc:
        _memo.bump_pending = True
        report_failure(exc)


@contextmanager
def request_scope() -> Iterator[None]:
    """Check the generation once for the whole request (the token endpoint's hot path)."""
    sync_generation()
    token = _scope.set(True)
    try:
        yield
    finally:
        _scope.reset(token)


def memoized(memo_key: Hashable, load: Callable[[], Any]) -> Any:
    if not _scope.get():
        sync_generation()
    if _memo.generation is None:
        return load()
    value = _memo.values.get(memo_key, _ABSENT)
    if value is _ABSENT:
        value = load()
        if len(_memo.values) >= _MEMO_LIMIT:
            _memo.values = {}
        _memo.values[memo_key] = value
    return value
