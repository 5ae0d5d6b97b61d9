"""The default receivers of every ``oauth_token.signals`` event.

``log_event`` writes one line per event on the ``oauth_token.events`` logger, its fields in
``extra`` (JSON values: a JSON log formatter emits them as they are). ``store_event`` keeps it
as an :class:`AuditEvent` when ``AUDIT_LOG`` is on. Both run after the transaction that caused
the event committed; a failed write is logged and never fails the request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

from oauth_token import signals
from oauth_token.conf import oauth_settings
from oauth_token.events import audit, payloads

logger = logging.getLogger("oauth_token.events")

SIGNALS: dict[str, Signal] = {name: getattr(signals, name) for name in signals.EVENT_NAMES}


def _name_of(signal: Signal) -> str:
    for name, candidate in SIGNALS.items():
        if candidate is signal:
            return name
    return "unknown"


def log_event(signal: Signal, **kwargs: Any) -> None:
    name = _name_of(signal)
    level = logging.WARNING if name in payloads.FAILURES else logging.INFO
    if not logger.isEnabledFor(level):
        return  # nothing to build when nobody listens
    event = payloads.build(name, kwargs)
    logger.log(
        level,
        "oauth_token event %s %s client=%s actor=%s",
        event.name,
        event.outcome,
        event.client_id or "-",
        event.actor or "-",
        extra=event.as_log_extra(),
    )


def store_event(signal: Signal, **kwargs: Any) -> None:
    """With AUDIT_LOG on, hand the event to the audit writer (buffered, see ``audit``)."""
    if not oauth_settings.AUDIT_LOG:
        return
    audit.writer.record(payloads.build(_name_of(signal), kwargs))


def connect() -> None:
    """Connect both receivers to every public signal (called from ``AppConfig.ready``)."""
    audit.register_exit_flush()
    for name, signal in SIGNALS.items():
        signal.connect(log_event, dispatch_uid=f"oauth_token.events.log.{name}")
        signal.connect(store_event, dispatch_uid=f"oauth_token.events.audit.{name}")
