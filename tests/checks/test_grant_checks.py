"""`manage.py check` reports the password-throttle and trusted-issuer settings an operator got
wrong, before the first request would fail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

pytestmark = pytest.mark.django_db


def errors(settings: Any, **overrides: Any) -> set[tuple[str, str]]:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **overrides}
    return {(e.id, e.msg) for e in run_checks(tags=["oauth_token"]) if e.id}


def test_defaults_are_clean(settings):
    ids = {i for i, _ in errors(settings)}
    assert not ids & {"oauth_token.E005", "oauth_token.E030"}


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD_MAX_FAILURES_PER_USER",
        "PASSWORD_MAX_FAILURES_PER_IP",
        "PASSWORD_FAILURE_WINDOW",
        "JWT_BEARER_MAX_LIFETIME",
    ],
)
@pytest.mark.parametrize("value", [0, -5, "10", True])
def test_limits_must_be_positive_integers(settings, name, value):
    assert (
        "oauth_token.E005",
        f"OAUTH_TOKEN['{name}'] must be a positive integer.",
    ) in errors(settings, **{name: value})


@pytest.mark.parametrize("name", ["CLIENT_IP_FUNCTION", "EXTERNAL_USER_LOOKUP"])
@pytest.mark.parametrize("value", ["no.such.module.fn", "oauth_token.conf.DEFAULTS", 42])
def test_hooks_must_be_importable_functions(settings, name, value):
    assert (
        "oauth_token.E030",
        f"OAUTH_TOKEN['{name}'] must be the dotted path of a function.",
    ) in errors(settings, **{name: value})
