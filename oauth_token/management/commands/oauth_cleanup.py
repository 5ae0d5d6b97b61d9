"""``manage.py oauth_cleanup [--batch-size N]``: delete expired rows (see cleanup.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from oauth_token.management.base import OAuthCommand, add_json_flag, positive_int
from oauth_token.tokens import cleanup


class Command(OAuthCommand):
    help = "Delete expired codes, tokens and denylist entries, in batches. Safe to run often."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=1000,
            metavar="N",
            help="Rows deleted per statement (default 1000).",
        )
        add_json_flag(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = cleanup.run(batch_size=options["batch_size"])
        total = sum(counts.values())
        lines = [f"{name}: {count} deleted" for name, count in counts.items()]
        self.emit({"deleted": counts, "total": total}, [*lines, f"total: {total} deleted"])
