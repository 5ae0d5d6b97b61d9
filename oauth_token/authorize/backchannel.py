"""Delivering logout tokens to clients (OIDC Back-Channel Logout 1.0 §2.5).

When a session ends, each client that took part in it and registered a
``backchannel_logout_uri`` is sent ``logout_token=<JWT>`` in a form POST. The tokens are
signed in the request that ended the session; delivery starts only after its transaction
commits (:func:`notify` is called from ``transaction.on_commit``), so a rolled-back logout
tells nobody.

Why a background thread and not a queue table: delivery must never hold the person's request
(an RP that is down would otherwise delay every logout by its timeout), and this package has
no task runner to rely on. Each delivery gets its own daemon thread that tries at most
BACKCHANNEL_LOGOUT_ATTEMPTS times, waiting BACKCHANNEL_LOGOUT_RETRY_DELAY seconds before the
first retry and twice as long before each further one; every attempt is bounded by the
outbound request deadline, so a thread lives a bounded time. The thread touches no database.
The cost of this choice: a worker that is killed mid-retry loses the remaining attempts of its
deliveries. A logout token expires within LOGOUT_TOKEN_LIFETIME anyway, so a late retry from a
durable queue would be refused by the RP (§2.6 step 6 rejects expired tokens) — durability
would buy little.

What counts (§2.8): 200 (or any 2xx) is delivered; a 4xx is the RP refusing the token, final;
anything else (5xx, a redirect, no answer) is retried. Outcomes are events on the
``oauth_token.events`` logger: ``backchannel_logout_delivered`` at INFO and
``backchannel_logout_failed`` at WARNING, with the client_id and the reason, never the token.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from oauth_token.conf import oauth_settings

events = logging.getLogger("oauth_token.events")

DELIVERED = "delivered"
REFUSED = "refused"
RETRY = "retry"


@dataclass(frozen=True)
class Notice:
    """One logout token for one client's back-channel logout URI."""

    client_id: str
    uri: str
    logout_token: str = field(repr=False)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def post_form(uri: str, data: dict[str, str]) -> int:
    """POST ``data`` form-encoded to ``uri``; the status code (a redirect is returned, never
    followed). Raises OSError when no response arrived in time.

    The function boundary the guarded outbound module (``core/outbound.py``, issue 15's
    hardening) will replace; until then: http(s) only, no redirects, a timeout."""
    if not uri.startswith(("https://", "http://")):
        raise OSError("not an http(s) URL")
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        uri,
        data=urlencode(data).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with opener.open(request, timeout=float(oauth_settings.JWKS_FETCH_TIMEOUT)) as response:
            response.read(16 * 1024)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def attempt(notice: Notice) -> tuple[str, str]:
    """One POST of the logout token (§2.5); (outcome, reason)."""
    try:
        status = post_form(notice.uri, {"logout_token": notice.logout_token})
    except (OSError, ValueError) as exc:
        return RETRY, type(exc).__name__
    if 200 <= status < 300:
        return DELIVERED, str(status)
    if 400 <= status < 500:
        return REFUSED, f"HTTP {status}"
    return RETRY, f"HTTP {status}"


def deliver(notice: Notice) -> bool:
    """Bounded retries of one delivery; logs the outcome as an event. True when delivered."""
    attempts = max(1, int(oauth_settings.BACKCHANNEL_LOGOUT_ATTEMPTS))
    delay = max(0.0, float(oauth_settings.BACKCHANNEL_LOGOUT_RETRY_DELAY))
    reason = ""
    for number in range(1, attempts + 1):
        outcome, reason = attempt(notice)
        if outcome == DELIVERED:
            events.info(
                "backchannel_logout_delivered client_id=%s attempts=%d",
                notice.client_id,
                number,
                extra={"event": "backchannel_logout_delivered", "client_id": notice.client_id},
            )
            return True
        if outcome == REFUSED or number == attempts:
            break
        time.sleep(delay)
        delay *= 2
    events.warning(
        "backchannel_logout_failed client_id=%s attempts=%d reason=%s",
        notice.client_id,
        number,
        reason,
        extra={
            "event": "backchannel_logout_failed",
            "client_id": notice.client_id,
            "reason": reason,
        },
    )
    return False


def notify(notices: Iterable[Notice]) -> list[threading.Thread]:
    """Start delivering each notice on its own daemon thread; returns at once."""
    threads = []
    for notice in notices:
        thread = threading.Thread(
            target=deliver, args=(notice,), name="oauth_token-backchannel-logout", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads
