"""Brute-force protection for password logins (RFC 6749 §4.3.2, §10.10; as Auth0's
brute-force protection and suspicious-IP throttling).

Attempts are counted per username and per source IP in the shared cache, in a fixed window
that starts with the first one: once a counter has reached its limit of failures, every attempt
is refused with 429 ``too_many_attempts`` (before any password is checked) until the window
passes. A successful login clears the user's counter and gives the IP back only its own
attempt, so one valid account cannot launder an address that is guessing at others. Usernames
that do not exist are counted like any other, so the lockout reveals nothing about which
accounts exist.

Counters use ``cache.add`` then ``cache.incr``, both atomic in Redis and in local memory, so
concurrent workers never lose a failure. When the cache is down we fail closed (503): a login
that cannot be throttled is not attempted.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from oauth_token.conf import oauth_settings
from oauth_token.core import cache
from oauth_token.errors import TemporarilyUnavailable, TooManyAttempts

logger = logging.getLogger("oauth_token")


def remote_addr(request: HttpRequest) -> str:
    """Default ``CLIENT_IP_FUNCTION``. Behind a proxy, set REMOTE_ADDR from the proxy's header
    in middleware, or point the setting at a function that knows the proxy chain."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


@dataclass(frozen=True)
class Counter:
    """One failure counter: ``scope`` is "user" or "ip", ``value`` what is counted."""

    scope: str
    value: str
    limit: int

    @property
    def key(self) -> str:
        return cache.key("pwfail", self.scope, self.value)

    @property
    def started_key(self) -> str:
        return cache.key("pwfail-start", self.scope, self.value)


def _window() -> int:
    return max(1, int(oauth_settings.PASSWORD_FAILURE_WINDOW))


def _unavailable(exc: Exception) -> TemporarilyUnavailable:
    logger.error("oauth_token throttle cache unavailable: %s", type(exc).__name__)
    return TemporarilyUnavailable(
        "Login throttling is unavailable; retry later.",
        headers={"Retry-After": str(oauth_settings.RETRY_AFTER)},
    )


class PasswordThrottle:
    """The counters that guard one login attempt: the username's and the source IP's."""

    def __init__(self, username: str, ip: str):
        self.user = Counter(
            "user", username.casefold(), int(oauth_settings.PASSWORD_MAX_FAILURES_PER_USER)
        )
        self.ip = Counter("ip", ip, int(oauth_settings.PASSWORD_MAX_FAILURES_PER_IP))

    @classmethod
    def for_request(cls, request: HttpRequest, username: str) -> PasswordThrottle:
        return cls(username, str(oauth_settings.CLIENT_IP_FUNCTION(request)))

    def begin(self) -> None:
        """Count this attempt on both counters before any password is checked, and refuse it
        (429 ``too_many_attempts``) once either counter is past its limit. Counting first
        closes the race in which a burst of parallel guesses all pass a check made before any
        of them had failed; a refused attempt counts too, so hammering a locked account also
        uses up the address's allowance."""
        counts = [(counter, self._increment(counter)) for counter in (self.user, self.ip)]
        for counter, count in counts:
            if count == counter.limit + 1:
                logger.warning("oauth_token password login locked (%s)", counter.scope)
            if count > counter.limit:
                raise TooManyAttempts(
                    self._description(counter),
                    headers={"Retry-After": str(self._retry_after(counter))},
                )

    def succeeded(self) -> None:
        """The attempt was no failure: clear the username's counter and give the address back
        the attempt ``begin`` counted."""
        store = cache.shared_cache()
        try:
            store.delete_many([self.user.key, self.user.started_key])
            with contextlib.suppress(ValueError):  # the window ended meanwhile
                store.decr(self.ip.key)
        except Exception as exc:
            raise _unavailable(exc) from exc

    def _increment(self, counter: Counter) -> int:
        store, window = cache.shared_cache(), _window()
        try:
            if store.add(counter.key, 1, window):
                store.set(counter.started_key, time.time(), window)
                return 1
            try:
                return int(store.incr(counter.key))
            except ValueError:  # expired between add and incr: this failure opens a new window
                store.set(counter.key, 1, window)
                store.set(counter.started_key, time.time(), window)
                return 1
        except Exception as exc:
            raise _unavailable(exc) from exc

    def _retry_after(self, counter: Counter) -> int:
        window = _window()
        try:
            started: Any = cache.shared_cache().get(counter.started_key)
        except Exception:
            started = None
        if not isinstance(started, int | float):
            return window
        return max(1, min(window, int(started + window - time.time()) + 1))

    @staticmethod
    def _description(counter: Counter) -> str:
        if counter.scope == "user":
            return "Too many failed login attempts for this user; try again later."
        return "Too many failed login attempts from this address; try again later."
