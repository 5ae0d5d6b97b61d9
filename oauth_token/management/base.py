"""What every oauth_token command shares: ``--json``, one-line failures, no tracebacks.

The command-line contract (README.md, "Command reference"): with ``--json`` a command prints
exactly one JSON document on stdout and nothing else; a failure exits non-zero with a one-line
message on stderr. Commands stay thin (like ``django.contrib.auth``'s): they parse arguments
and call ``provisioning`` and ``keyring``, which the admin and tests share.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any, NoReturn

from django.core.checks import ERROR
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, OperationalError, ProgrammingError

from oauth_token.checks import check_configuration
from oauth_token.core.jose import JoseError
from oauth_token.errors import ConfigurationError
from oauth_token.registry.provisioning import messages_naming_fields

# Mistakes an operator can make; anything else is a bug and keeps its traceback.
OPERATOR_ERRORS = (ValidationError, ConfigurationError, JoseError, LookupError, ValueError)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return one_line(" ".join(messages_naming_fields(exc)))
    if isinstance(exc, LookupError) and exc.args:
        return one_line(str(exc.args[0]))
    if isinstance(exc, OperationalError | ProgrammingError) and _missing_table(exc):
        return one_line(f"Database error ({exc}); has `manage.py migrate` run?")
    if isinstance(exc, DatabaseError):
        return one_line(f"Database error ({exc}).")
    return one_line(str(exc))


def _missing_table(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


class OneLineParser(CommandParser):
    """Usage errors as one line on stderr (exit 2), not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {one_line(message)}\n")
        raise CommandError(f"Error: {one_line(message)}")


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def add_json_flag(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="Print one JSON document on stdout and nothing else.",
    )


class OAuthCommand(BaseCommand):
    """Base of the oauth_* commands.

    Django's system checks are not run as such, because ``oauth_token.E010`` (no current key)
    would block the very command that creates one, and a SystemCheckError is a multi-line
    report; the configuration checks run instead and fail as one line.
    """

    requires_system_checks: list[str] = []
    json_output = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineParser
        return parser

    def subcommands(self, parser: CommandParser) -> Any:
        """``ACTION`` subparsers (``oauth_keys rotate``), with one-line usage errors too."""
        return parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", parser_class=OneLineParser
        )

    def execute(self, *args: Any, **options: Any) -> Any:
        self.json_output = bool(options.get("json"))
        try:
            self.check_configuration()
            return super().execute(*args, **options)
        except CommandError as exc:
            raise CommandError(one_line(str(exc)), returncode=exc.returncode) from exc
        except (*OPERATOR_ERRORS, DatabaseError) as exc:
            raise CommandError(describe(exc)) from exc

    def check_configuration(self) -> None:
        errors = [e for e in check_configuration() if e.level >= ERROR]
        if errors:
            first = errors[0]
            raise CommandError(f"{first.id}: {first.msg}")

    def emit(self, document: Any, text: str | list[str]) -> None:
        """The command's result: ``document`` as JSON with --json, else ``text`` for people."""
        if self.json_output:
            self.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str))
            return
        lines = [text] if isinstance(text, str) else text
        for line in lines:
            self.stdout.write(line)

    def note(self, text: str) -> None:
        """A remark for people: stderr, so --json output stays one document."""
        self.stderr.write(one_line(text))


def split_values(values: list[str] | None) -> list[str]:
    """Repeated options take several values, each possibly space-separated ("a b")."""
    return list(dict.fromkeys(v for value in values or () for v in value.split()))
