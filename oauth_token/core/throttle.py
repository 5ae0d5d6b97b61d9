"""The one fixed-window attempt counter behind every throttle: the password lockout
(``core/lockout.py``: the password grant and the login page), wrong user codes at /activate
(RFC 8628 §5.1), and any throttle added later.

**Count first, then decide.** Each attempt increments its counters (``cache.add`` then
``cache.incr``, atomic in Redis and in local memory, so workers sharing the cache share the
count) and is refused when a *new* count exceeds its limit. Checking before counting lets a
burst of parallel attempts all pass a check made before any of them was recorded (40
simultaneous wrong codes had 16 evaluated against a limit of 10); counting first cannot.
An attempt that turns out to be legitimate may ``give_back`` its count.

**Who is asking, deep below the view.** A throttle that lives below the views (the fetch of
a Client ID Metadata Document happens inside the client lookup) learns the request it is
counting for from :func:`serving`, which the views enter; :func:`source_ip` then asks
``CLIENT_IP_FUNCTION``, only when a throttle needs the address.

A window starts with the first attempt and lasts ``window`` seconds; the refusal carries
``Retry-After`` until it ends. When the cache is unreachable, throttles fail closed (503): a
guessable secret must not become guessable at full speed because Redis is down.

**One round trip on Redis.** Through Django's generic cache API an attempt on two counters
and the success that settles it cost eight round trips (``add``, ``set``, and ``incr`` and
``decr``, which Django's RedisCache implements as EXISTS plus INCRBY). With Django's
``RedisCache`` the same operations run as two small Lua scripts on the cache's own
connection (same keys, same integer encoding, so Django's ``get`` still reads the counts):
one script counts every counter of an attempt and returns each window's remaining seconds
from the key's TTL, one settles a success. Other backends keep the generic path.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from oauth_token.conf import oauth_settings
from oauth_token.core import cache
from oauth_token.errors import TemporarilyUnavailable, TooManyAttempts

logger = logging.getLogger("oauth_token")

_serving: ContextVar[HttpRequest | None] = ContextVar("oauth_token_serving", default=None)


@contextlib.contextmanager
def serving(request: HttpRequest) -> Iterator[None]:
    """While the view handles ``request``, :func:`source_ip` answers for it."""
    token = _serving.set(request)
    try:
        yield
    finally:
        _serving.reset(token)


def source_ip() -> str | None:
    """The source address of the request being served (``CLIENT_IP_FUNCTION``), or None
    outside a view (a management command, a shell)."""
    request = _serving.get()
    return None if request is None else str(oauth_settings.CLIENT_IP_FUNCTION(request))


def _unavailable(exc: Exception) -> TemporarilyUnavailable:
    logger.error("oauth_token throttle cache unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailable(
        "Throttling is unavailable; retry later.",
        headers={"Retry-After": str(oauth_settings.RETRY_AFTER)},
    )


@dataclass(frozen=True)
class Counter:
    """Attempts at ``namespace`` (what is guarded, e.g. "password") by one ``scope`` ("user",
    "ip") and ``value`` (who), at most ``limit`` per ``window`` seconds."""

    namespace: str
    scope: str
    value: str
    limit: int
    window: int

    @property
    def key(self) -> str:
        return cache.key("throttle", self.namespace, self.scope, self.value)

    @property
    def started_key(self) -> str:
        return cache.key("throttle-start", self.namespace, self.scope, self.value)

    def count(self) -> int:
        """Record one attempt; the count in the current window, this one included."""
        store, window = cache.shared_cache(), max(1, self.window)
        try:
            if store.add(self.key, 1, window):
                store.set(self.started_key, time.time(), window)
                return 1
            try:
                return int(store.incr(self.key))
            except ValueError:  # expired between add and incr: this attempt opens a window
                store.set(self.key, 1, window)
                store.set(self.started_key, time.time(), window)
                return 1
        except Exception as exc:
            raise _unavailable(exc) from exc

    def give_back(self) -> None:
        """Uncount one attempt (it was legitimate); nothing when the window has ended."""
        try:
            with contextlib.suppress(ValueError):
                cache.shared_cache().decr(self.key)
        except Exception as exc:
            raise _unavailable(exc) from exc

    def clear(self) -> None:
        try:
            cache.shared_cache().delete_many([self.key, self.started_key])
        except Exception as exc:
            raise _unavailable(exc) from exc

    def retry_after(self) -> int:
        window = max(1, self.window)
        try:
            started: Any = cache.shared_cache().get(self.started_key)
        except Exception:
            started = None
        if not isinstance(started, int | float):
            return window
        return max(1, min(window, int(started + window - time.time()) + 1))


# KEYS: the counters; ARGV: their windows. Each INCR opens a window (EXPIRE) at 1; a key that
# somehow lost its TTL gets one back rather than counting forever. Returns count, TTL pairs.
_COUNT_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = -1
  if count > 1 then ttl = redis.call('TTL', key) end
  if ttl < 0 then
    redis.call('EXPIRE', key, ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""

# KEYS: the first ARGV[1] are deleted (counters cleared, with their start markers), the rest
# are given back one attempt each when their window still runs (a DECR of a missing key would
# create a count of -1 with no expiry).
_SETTLE_SCRIPT = """
local cleared = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if i <= cleared then
    redis.call('DEL', key)
  elseif redis.call('EXISTS', key) == 1 then
    redis.call('DECR', key)
  end
end
return 1
"""


def _count_all(counters: Sequence[Counter]) -> list[tuple[int, int | None]]:
    """Record one attempt on each counter: (count, seconds left in its window, when known)."""
    store = cache.shared_cache()
    client = cache.redis_client(store)
    if client is None:
        return [(counter.count(), None) for counter in counters]
    keys = [store.make_and_validate_key(counter.key) for counter in counters]
    windows = [max(1, counter.window) for counter in counters]
    try:
        flat = client.eval(_COUNT_SCRIPT, len(keys), *keys, *windows)
    except Exception as exc:
        raise _unavailable(exc) from exc
    return [(int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)]


def settle(clear: Sequence[Counter] = (), give_back: Sequence[Counter] = ()) -> None:
    """After an attempt that was no failure: ``clear`` these counters, and ``give_back`` the
    attempt counted on those (in one round trip on Redis)."""
    store = cache.shared_cache()
    client = cache.redis_client(store)
    if client is None:
        for counter in clear:
            counter.clear()
        for counter in give_back:
            counter.give_back()
        return
    cleared = [store.make_and_validate_key(k) for c in clear for k in (c.key, c.started_key)]
    keys = cleared + [store.make_and_validate_key(counter.key) for counter in give_back]
    try:
        client.eval(_SETTLE_SCRIPT, len(keys), *keys, len(cleared))
    except Exception as exc:
        raise _unavailable(exc) from exc


def attempt(
    counters: Sequence[Counter],
    describe: Callable[[Counter], str],
    on_engaged: Callable[[Counter], None] | None = None,
) -> None:
    """Count this attempt on every counter, then refuse it (429 ``too_many_attempts`` with
    ``Retry-After``) when any new count exceeds its limit. Every counter is incremented even
    when an earlier one refuses, so hammering a locked account also uses up the address's
    allowance. ``on_engaged(counter)`` runs for a counter that has just passed its limit, once
    the refused request has rolled back (it reports the lockout, e.g. as an event)."""
    counts = [
        (counter, count, left)
        for counter, (count, left) in zip(counters, _count_all(counters), strict=True)
    ]
    engaged = [counter for counter, count, _ in counts if count == counter.limit + 1]
    for counter in engaged:
        logger.warning("oauth_token %s throttle engaged (%s)", counter.namespace, counter.scope)
    for counter, count, left in counts:
        if count > counter.limit:
            retry_after = counter.retry_after() if left is None else max(1, left)
            refusal = TooManyAttempts(describe(counter), headers={"Retry-After": str(retry_after)})
            if on_engaged is not None:
                for just_engaged in engaged:
                    refusal.then(functools.partial(on_engaged, just_engaged))
            raise refusal
