"""``manage.py oauth_audit export [--since ISO] [--until ISO] [--event NAME ...]
[--client CLIENT_ID] [--output PATH]``: the audit log as JSON lines, oldest first, for a SIEM
or an archive (like Auth0's log streams). ``--json`` is accepted for the command-line contract:
JSON lines are already one JSON document per event."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from oauth_token.management.base import OAuthCommand, add_json_flag, split_values
from oauth_token.models import AuditEvent
from oauth_token.signals import EVENT_NAMES


def _moment(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"Not an ISO 8601 date and time: {value!r}.")
    return make_aware(parsed) if is_naive(parsed) else parsed


def event_line(event: AuditEvent) -> str:
    return json.dumps(
        {
            "id": event.pk,
            "time": event.created_at.isoformat(),
            "event": event.event,
            "outcome": event.outcome,
            "actor": event.actor or None,
            "client_id": event.client_id or None,
            "ip": event.ip or None,
            "user_agent": event.user_agent or None,
            "details": event.details,
        },
        sort_keys=False,
    )


class Command(OAuthCommand):
    help = "Export the audit log (OAUTH_TOKEN['AUDIT_LOG']) as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = self.subcommands(parser)
        export = actions.add_parser("export", help="Write events as JSON lines, oldest first.")
        export.add_argument("--since", metavar="ISO", help="Only events at or after this time.")
        export.add_argument("--until", metavar="ISO", help="Only events before this time.")
        export.add_argument(
            "--event",
            dest="events",
            action="extend",
            nargs="+",
            default=[],
            metavar="NAME",
            help=f"Only these events ({', '.join(EVENT_NAMES)}).",
        )
        export.add_argument("--client", metavar="CLIENT_ID", help="Only this client's events.")
        export.add_argument("--output", metavar="PATH", help="A file instead of stdout.")
        add_json_flag(export)

    def handle(self, *args: Any, **options: Any) -> None:
        rows = AuditEvent.objects.order_by("created_at", "id")
        if options["since"]:
            rows = rows.filter(created_at__gte=_moment(options["since"]))
        if options["until"]:
            rows = rows.filter(created_at__lt=_moment(options["until"]))
        events = split_values(options["events"])
        unknown = [e for e in events if e not in EVENT_NAMES]
        if unknown:
            raise CommandError(
                f"Unknown event(s): {', '.join(unknown)}; choose from {', '.join(EVENT_NAMES)}."
            )
        if events:
            rows = rows.filter(event__in=events)
        if options["client"]:
            rows = rows.filter(client_id=options["client"])
        if options["output"]:
            try:
                with Path(options["output"]).open("w", encoding="utf-8") as out:
                    count = _write(rows, lambda line: out.write(line + "\n"))
            except OSError as exc:
                raise CommandError(
                    f"Cannot write {options['output']}: {exc.strerror or exc}."
                ) from exc
            self.note(f"Exported {count} event(s) to {options['output']}.")
            return
        _write(rows, self.stdout.write)


def _write(rows: Any, write: Callable[[str], Any]) -> int:
    count = 0
    for event in rows.iterator(chunk_size=1000):
        write(event_line(event))
        count += 1
    return count
