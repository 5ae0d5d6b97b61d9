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
outbound deadline (OUTBOUND_TIMEOUT), so a thread lives a bounded time. Delivery itself reads
no database; the outcome's receivers may (the audit log), so the thread closes its own
connections when it ends. The cost of this choice: a worker that is killed mid-retry loses
the remaining attempts of its deliveries. A logout token expires within LOGOUT_TOKEN_LIFETIME
anyway, so a late retry from a durable queue would be refused by the RP (§2.6 step 6 rejects
expired tokens): durability would buy little.

What counts (§2.8): 200 (or any 2xx) is delivered; a 5xx or no answer in time is retried; a
4xx (the RP refusing the token) or a redirect (never followed: the URI is wrong) is final.
The request goes through ``core/outbound.py``, so a ``backchannel_logout_uri`` cannot be aimed
at an internal address (SSRF) nor hold the thread past the outbound deadline.

Outcomes are public events (``oauth_token.signals``): ``backchannel_logout_delivered`` or
``backchannel_logout_failed`` with the client_id, the number of attempts and the reason, never
the token. Their receivers log one line each on ``oauth_token.events`` (the failure at WARNING)
and, with AUDIT_LOG, store an audit event. The thread runs after the logout's commit and in no
transaction, so it sends them at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections

from oauth_token import signals
from oauth_token.conf import oauth_settings
from oauth_token.core import outbound
from oauth_token.models import Client

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
        return DELIVERED, f"HTTP {status}"
    if status >= 500:
        return RETRY, f"HTTP {status}"
    return REFUSED, f"HTTP {status}"


def deliver(notice: Notice) -> bool:
    """Bounded retries of one delivery, then its outcome as an event. True when delivered."""
    attempts = max(1, int(oauth_settings.BACKCHANNEL_LOGOUT_ATTEMPTS))
    delay = max(0.0, float(oauth_settings.BACKCHANNEL_LOGOUT_RETRY_DELAY))
    outcome, reason, number = RETRY, "", 0
    while number < attempts:
        if number:
            time.sleep(delay)
            delay *= 2
        number += 1
        outcome, reason = attempt(notice)
        if outcome != RETRY:
            break
    delivered = outcome == DELIVERED
    signals.send_now(
        signals.backchannel_logout_delivered if delivered else signals.backchannel_logout_failed,
        Client,
        client_id=notice.client_id,
        attempts=number,
        reason=reason,
    )
    return delivered


def deliver_in_background(notice: Notice) -> None:
    """The delivery thread: :func:`deliver`, then close the database connections its event
    receivers opened (connections are per thread; nobody else would close these)."""
    try:
        deliver(notice)
    finally:
        connections.close_all()


def notify(notices: Iterable[Notice]) -> list[threading.Thread]:
    """Start delivering each notice on its own daemon thread; returns at once."""
    threads = []
    for notice in notices:
        thread = threading.Thread(
            target=deliver_in_background,
            args=(notice,),
            name="oauth_token-backchannel-logout",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads
