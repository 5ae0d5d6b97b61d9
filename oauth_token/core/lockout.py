"""Brute-force protection for password logins (RFC 6749 §4.3.2, §10.10; as Auth0's
brute-force protection and suspicious-IP throttling).

Attempts are counted per username and per source IP in the shared cache, in a fixed window
that starts with the first one: once a counter has reached its limit of failures, every attempt
is refused with 429 ``too_many_attempts`` (before any password is checked) until the window
passes. A successful login clears the user's counter and gives the IP back only its own
attempt, so one valid account cannot launder an address that is guessing at others. Usernames
that do not exist are counted like any other, so the lockout reveals nothing about which
accounts exist.

Both counters are ``core.throttle.Counter``s, the fixed-window counter every throttle shares:
each attempt is counted before any password is checked and refused when the new count exceeds
the limit, so concurrent guesses cannot slip past a check made before any of them failed. When
the cache is down we fail closed (503): a login that cannot be throttled is not attempted.
"""

from __future__ import annotations

from django.http import HttpRequest

from oauth_token import signals
from oauth_token.conf import oauth_settings
from oauth_token.core import throttle
from oauth_token.core.throttle import Counter
from oauth_token.signals import send_after_commit


def remote_addr(request: HttpRequest) -> str:
    """Default ``CLIENT_IP_FUNCTION``. Behind a proxy, set REMOTE_ADDR from the proxy's header
    in middleware, or point the setting at a function that knows the proxy chain."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class PasswordThrottle:
    """The counters that guard one password login attempt (the password grant, the login
    page): the username's and the source IP's."""

    def __init__(self, username: str, ip: str, request: HttpRequest | None = None):
        self.username, self.address, self.request = username, ip, request
        window = int(oauth_settings.PASSWORD_FAILURE_WINDOW)
        self.user = Counter(
            "password",
            "user",
            username.casefold(),
            int(oauth_settings.PASSWORD_MAX_FAILURES_PER_USER),
            window,
        )
        self.ip = Counter(
            "password", "ip", ip, int(oauth_settings.PASSWORD_MAX_FAILURES_PER_IP), window
        )

    @classmethod
    def for_request(cls, request: HttpRequest, username: str) -> PasswordThrottle:
        return cls(username, str(oauth_settings.CLIENT_IP_FUNCTION(request)), request)

    def begin(self) -> None:
        """Count this attempt on both counters before any password is checked, and refuse it
        (429 ``too_many_attempts``) once either counter is past its limit."""
        throttle.attempt((self.user, self.ip), self._description, self._locked_out)

    def _locked_out(self, counter: Counter) -> None:
        """``user_locked_out``, sent after the refused request has rolled back."""
        send_after_commit(
            signals.user_locked_out,
            None,
            username=self.username,
            ip=self.address,
            scope=counter.scope,
            request=self.request,
        )

    def succeeded(self) -> None:
        """The attempt was no failure: clear the username's counter and give the address back
        the attempt ``begin`` counted (so one valid account cannot launder an address that is
        guessing at others)."""
        throttle.settle(clear=(self.user,), give_back=(self.ip,))

    @staticmethod
    def _description(counter: Counter) -> str:
        if counter.scope == "user":
            return "Too many failed login attempts for this user; try again later."
        return "Too many failed login attempts from this address; try again later."
