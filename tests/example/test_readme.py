"""README.md is part of the contract: its commands are what CI runs, its settings reference
lists every key of ``oauth_token.conf.DEFAULTS`` and its command reference every command."""

from __future__ import annotations

import re

from oauth_token.conf import DEFAULTS

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _fenced_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)


def test_readme_opens_with_the_two_single_line_commands():
    start, tests = _fenced_blocks()[:2]
    assert "\n" not in start and "\n" not in tests
    assert start.endswith("example_project/manage.py quickstart")
    assert tests.endswith("python -m pytest")
    assert README.index(start) < README.index("## ")


def test_ci_runs_the_readme_test_command():
    tests = _fenced_blocks()[1]
    assert f"TEST_COMMAND='{tests}'" in CI


def test_settings_reference_lists_every_setting():
    section = README.split("## Settings reference", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, re.MULTILINE))
    missing = sorted(set(DEFAULTS) - documented)
    assert not missing, f"README.md's settings reference lacks: {', '.join(missing)}"
    unknown = sorted(documented - set(DEFAULTS))
    assert not unknown, f"README.md documents settings that do not exist: {', '.join(unknown)}"


def test_command_reference_lists_every_command():
    commands = sorted(p.stem for p in (ROOT / "oauth_token/management/commands").glob("oauth_*.py"))
    section = README.split("## Command reference", 1)[1]
    for command in commands:
        assert f"manage.py {command}" in section, command
