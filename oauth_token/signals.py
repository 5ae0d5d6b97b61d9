"""Public signals: the events of the public contract.

Each is sent after the transaction that caused it commits, so a receiver never sees an event
that was rolled back. Payloads never carry a secret or a token value: a token is named by its
``jti`` (access tokens) or its family's id (refresh tokens), a client by its ``client_id``.
Sources send them with :func:`send_after_commit`; an event caused by a refused request (a
lockout, a refresh-token reuse) is sent after that request's transaction has rolled back.
``oauth_token.events.receivers`` logs each on ``oauth_token.events`` and, with ``AUDIT_LOG``,
stores it as an ``AuditEvent``.
Every signal is sent with ``sender`` = the model class involved (``Client`` for
``token_issued``, ``client_authentication_failed`` and ``client_registered``;
``RefreshTokenFamily`` for ``refresh_token_reused`` and a family's ``tokens_revoked``,
``Client`` for the back-channel logout outcomes,
``RevokedAccessToken`` for an access token's; ``Consent``; ``SigningKey``; None for
``user_locked_out``, which has no row) and these keyword arguments:

- ``token_issued``: ``client_id``, ``grant_type``, ``subject``, ``audience``, ``scopes``,
  ``jti``, ``refresh_family_id`` (or None), ``request`` (the Django request, or None).
- ``refresh_token_reused``: ``client_id``, ``refresh_family_id``, ``subject``, ``request``.
- ``tokens_revoked``: ``client_id``, ``reason``, ``jtis`` (access tokens denylisted),
  ``refresh_family_ids``.
- ``client_authentication_failed``: ``client_id`` (as presented, or None), ``method``,
  ``reason`` (never the secret), ``request``.
- ``user_locked_out``: ``username``, ``ip``, ``scope`` (``"user"`` or ``"ip"``), ``request``.
- ``consent_granted`` / ``consent_revoked``: ``client_id``, ``user``, ``scopes``, ``request``.
- ``signing_key_rotated``: ``current_kid``, ``next_kid``, ``alg``.
- ``user_logged_out``: ``user``, ``sid``, ``client_ids``, ``request`` (sent by the logout view).
- ``client_registered``: ``client_id``, ``registration`` (``"dynamic"``, ``"command"``,
  ``"admin"``, or ``"metadata_document"`` when a Client ID Metadata Document is first
  fetched), ``request``.
- ``backchannel_logout_delivered`` / ``backchannel_logout_failed``: ``client_id``,
  ``attempts`` (how many POSTs were made), ``reason`` (``"HTTP 200"``, ``"HTTP 500"``, the
  outbound module's reason for no answer), never the logout token. Sent by the delivery thread
  (OIDC Back-Channel Logout 1.0 §2.8), which starts after the logout's transaction committed
  and runs in no transaction, so they are sent at once (:func:`send_now`); no ``request``.
"""

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger("oauth_token.events")

# Sent on every token response, always with ``sender=Client``: the receivers per sender are
# cached (Django's model signals do the same), invalidated by every connect and disconnect.
token_issued = Signal(use_caching=True)
refresh_token_reused = Signal()
tokens_revoked = Signal()
client_authentication_failed = Signal()
user_locked_out = Signal()
consent_granted = Signal()
consent_revoked = Signal()
signing_key_rotated = Signal()
user_logged_out = Signal()
client_registered = Signal()
backchannel_logout_delivered = Signal()
backchannel_logout_failed = Signal()

# Every public signal, by name (the events module connects its receivers to each).
EVENT_NAMES = (
    "token_issued",
    "refresh_token_reused",
    "tokens_revoked",
    "client_authentication_failed",
    "user_locked_out",
    "consent_granted",
    "consent_revoked",
    "signing_key_rotated",
    "user_logged_out",
    "client_registered",
    "backchannel_logout_delivered",
    "backchannel_logout_failed",
)

__all__ = [
    "EVENT_NAMES",
    "backchannel_logout_delivered",
    "backchannel_logout_failed",
    "client_authentication_failed",
    "client_registered",
    "consent_granted",
    "consent_revoked",
    "refresh_token_reused",
    "send_after_commit",
    "send_now",
    "signing_key_rotated",
    "token_issued",
    "tokens_revoked",
    "user_locked_out",
    "user_logged_out",
]


def send_now(signal: Signal, sender: Any, **payload: Any) -> None:
    """Send ``signal`` at once, for a source that runs outside any transaction (a background
    thread whose work began after a commit). A receiver that raises is logged and never fails
    the caller."""
    for receiver, outcome in signal.send_robust(sender, **payload):
        if isinstance(outcome, Exception):
            logger.error(
                "oauth_token event receiver %s failed: %s",
                getattr(receiver, "__qualname__", receiver),
                type(outcome).__name__,
            )


def send_after_commit(signal: Signal, sender: Any, **payload: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside of one), so a
    receiver never sees an event that was rolled back. A receiver that raises is logged and
    never fails the request that caused the event."""
    transaction.on_commit(lambda: send_now(signal, sender, **payload))
