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
outbound deadline (OUTBOUND_TIMEOUT), so a thread lives a bounded time. The thread touches no
database. The cost of this choice: a worker that is killed mid-retry loses the remaining
attempts of its deliveries. A logout token expires within LOGOUT_TOKEN_LIFETIME anyway, so a
late retry from a durable queue would be refused by the RP (§2.6 step 6 rejects expired
tokens): durability would buy little.

What counts (§2.8): 200 (or any 2xx) is delivered; a 5xx or no answer in time is retried; a
4xx (the RP refusing the token) or a redirect (never followed: the URI is wrong) is final.
The request goes through ``core/outbound.py``, so a ``backchannel_logout_uri`` cannot be aimed
at an internal address (SSRF) nor hold the thread past the outbound deadline.

Outcomes are events on the ``oauth_token.events`` logger: ``backchannel_logout_delivered`` at
INFO and ``backchannel_logout_failed`` at WARNING, with the client_id and the reason, never
the token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from oauth_token.conf import oauth_settings
from oauth_token.core import outbound

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


def attempt(notice: Notice) -> tuple[str, str]:
    """One POST of the logout token (§2.5) through the guarded outbound module (no redirects,
    public addresses only unless OUTBOUND_ALLOW_PRIVATE_ADDRESSES, a total deadline of
    OUTBOUND_TIMEOUT); (outcome, reason)."""
    try:
        status = outbound.post_form(notice.uri, {"logout_token": notice.logout_token})
    except outbound.OutboundError as exc:
        return RETRY, exc.reason or "no response"
    if 200 <= status < 300:
        return DELIVERED, str(status)
    if status >= 500:
        return RETRY, f"HTTP {status}"
    return REFUSED, f"HTTP {status}"


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
