"""`manage.py check` reports DPoP misconfiguration before the first proof arrives."""

from __future__ import annotations

import pytest

from oauth_token.checks import check_configuration


def ids(settings, **overrides) -> list[str]:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **overrides}
    return [e.id for e in check_configuration()]


def test_defaults_pass(settings):
    assert not {"oauth_token.E061", "oauth_token.E062"} & set(ids(settings))


@pytest.mark.parametrize("algs", [["HS256"], ["none"], [], "ES256", ["ES256", "HS512"]])
def test_dpop_algorithms_must_be_asymmetric(settings, algs):
    assert "oauth_token.E061" in ids(settings, DPOP_SIGNING_ALGORITHMS=algs)


@pytest.mark.parametrize("policy", ["sometimes", None, True])
def test_nonce_policy_must_be_known(settings, policy):
    assert "oauth_token.E062" in ids(settings, DPOP_NONCE_POLICY=policy)


@pytest.mark.parametrize("name", ["DPOP_IAT_WINDOW", "DPOP_NONCE_LIFETIME"])
@pytest.mark.parametrize("value", [0, -5, "60", True])
def test_windows_must_be_positive_integers(settings, name, value):
    assert "oauth_token.E005" in ids(settings, **{name: value})
