"""Run commands as ``manage.py`` does (argv parsed, CommandError printed as one line, exit
code), in-process so they share the test database."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, load_command_class


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


def run(name: str, *argv: str) -> Result:
    out, err = StringIO(), StringIO()
    command = load_command_class("oauth_token", name)
    command._called_from_command_line = True
    real_stderr, sys.stderr = sys.stderr, err  # argparse usage errors go to sys.stderr
    try:
        parser = command.create_parser("manage.py", name)
        options = vars(parser.parse_args(list(argv)))
        args = options.pop("args", ())
        command.execute(*args, **options, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        err.write(f"{exc.__class__.__name__}: {exc}\n")
        code = exc.returncode
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.stderr = real_stderr
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def manage():
    return run


def assert_one_line_failure(result: Result, *fragments: str) -> None:
    """DESIGN.md: a failure exits non-zero with a one-line message on stderr, no traceback."""
    assert result.code != 0
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
