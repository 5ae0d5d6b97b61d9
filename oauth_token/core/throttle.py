"""The one fixed-window attempt counter behind every throttle: the password lockout
(``core/lockout.py``: the password grant and the login page), wrong user codes at /activate
(RFC 8628 §5.1), and any throttle added later.

**Count first, then decide.** Each attempt increments its counters (``cache.add`` then
``cache.incr``, atomic in Redis and in local memory, so workers sharing the cache share the
count) and is refused when a *new* count exceeds its limit. Checking before counting lets a
burst of parallel attempts all pass a check made before any of them was recorded (40
simultaneous wrong codes had 16 evaluated against a limit of 10); counting first cannot.
An attempt that turns out to be legitimate may ``give_back`` its count.

A window starts with the first attempt and lasts ``window`` seconds; the refusal carries
``Retry-After`` until it ends. When the cache is unreachable, throttles fail closed (503): a
guessable secret must not become guessable at full speed because Redis is down.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import cache
from oauth_token.errors import TemporarilyUnavailable, TooManyAttempts

logger = logging.getLogger("oauth_token")


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
    counts = [(counter, counter.count()) for counter in counters]
    engaged = [counter for counter, count in counts if count == counter.limit + 1]
    for counter in engaged:
        logger.warning("oauth_token %s throttle engaged (%s)", counter.namespace, counter.scope)
    for counter, count in counts:
        if count > counter.limit:
            refusal = TooManyAttempts(
                describe(counter), headers={"Retry-After": str(counter.retry_after())}
            )
            if on_engaged is not None:
                for just_engaged in engaged:
                    refusal.then(functools.partial(on_engaged, just_engaged))
            raise refusal
