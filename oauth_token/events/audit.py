"""Writing audit events without slowing the request that caused them.

One INSERT per token request would cost client_credentials, which otherwise writes nothing,
about a third of its throughput on SQLite (bench ``cc_overhead``). So events are buffered per
process and written in bulk by a background thread: every ``AUDIT_LOG_FLUSH_INTERVAL`` seconds,
or as soon as ``AUDIT_LOG_BATCH_SIZE`` events are waiting, and when the process exits normally.
The price: a worker killed outright (SIGKILL, OOM) loses at most one interval's events. With
``AUDIT_LOG_BATCH_SIZE = 1`` each event is written at once, in the request's thread (inside a
savepoint, so a failed write never breaks the caller's transaction).

A failed write is logged (how many events, the exception's class) and never raised.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from django.db import connections, transaction
from django.utils import timezone

from oauth_token.conf import oauth_settings
from oauth_token.events.payloads import Event
from oauth_token.models import AuditEvent

logger = logging.getLogger("oauth_token.events")


def _row(event: Event) -> AuditEvent:
    return AuditEvent(
        created_at=timezone.now(),
        event=event.name,
        outcome=event.outcome,
        actor=event.actor,
        client_id=event.client_id,
        ip=event.ip,
        user_agent=event.user_agent,
        details=event.details,
    )


def write(rows: list[AuditEvent]) -> int:
    """Insert ``rows`` in one statement; on failure log and drop them. Returns rows written."""
    if not rows:
        return 0
    try:
        with transaction.atomic():
            AuditEvent.objects.bulk_create(rows)
    except Exception as exc:
        logger.error(
            "oauth_token audit log write failed for %d event(s) (%s): %s",
            len(rows),
            ", ".join(sorted({r.event for r in rows})),
            type(exc).__name__,
        )
        return 0
    return len(rows)


class BufferedWriter:
    """The process's buffer and its flusher thread (started lazily, again after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[AuditEvent] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def record(self, event: Event) -> None:
        row = _row(event)
        if int(oauth_settings.AUDIT_LOG_BATCH_SIZE) <= 1:
            write([row])
            return
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= int(oauth_settings.AUDIT_LOG_BATCH_SIZE)
        self._ensure_thread()
        if full:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        return write(rows)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="oauth_token-audit-writer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(float(oauth_settings.AUDIT_LOG_FLUSH_INTERVAL))
            self._wake.clear()
            try:
                self.flush()
            finally:
                connections.close_all()  # this thread's connections only


writer = BufferedWriter()


def flush_at_exit() -> None:
    """Registered with ``atexit`` in ``AppConfig.ready``: a worker stopping normally (gunicorn
    on SIGTERM, a finished command) writes what it still holds."""
    writer.flush()


def register_exit_flush() -> None:
    atexit.register(flush_at_exit)
