"""``manage.py check`` reports bad refresh-token settings before a client meets them."""

from __future__ import annotations

import pytest

from oauth_token.checks import check_configuration


def ids(settings, **overrides):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **overrides}
    return [e.id for e in check_configuration()]


@pytest.mark.parametrize(
    "overrides",
    [
        {"REFRESH_TOKEN_ABSOLUTE_LIFETIME": -1},
        {"REFRESH_TOKEN_IDLE_LIFETIME": "15d"},
        {"REFRESH_TOKEN_REUSE_LEEWAY": None},
        {"REFRESH_TOKEN_REUSE_LEEWAY": 2.5},
    ],
)
def test_bad_refresh_lifetimes_are_reported(settings, overrides):
    assert ids(settings, **overrides) == ["oauth_token.E020"]


@pytest.mark.parametrize(
    "overrides",
    [{"REFRESH_TOKEN_ROTATION": "yes"}, {"DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS": 1}],
)
def test_policy_switches_must_be_booleans(settings, overrides):
    assert ids(settings, **overrides) == ["oauth_token.E021"]


def test_zero_or_none_lifetimes_mean_unlimited_and_pass(settings):
    assert (
        ids(
            settings,
            REFRESH_TOKEN_ABSOLUTE_LIFETIME=0,
            REFRESH_TOKEN_IDLE_LIFETIME=None,
            REFRESH_TOKEN_REUSE_LEEWAY=10,
            REFRESH_TOKEN_ROTATION=False,
        )
        == []
    )
