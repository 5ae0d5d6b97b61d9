"""``manage.py check`` reports an operator's mistake before the first client meets it
(Django's system-check framework; ids ``oauth_token.E0xx``)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from oauth_token.registry import keyring, provisioning

pytestmark = pytest.mark.django_db

KEK = "test-key-encryption-key-0123456789abcdef"


def oauth_check_ids() -> set[str]:
    from django.core.checks import run_checks

    return {m.id for m in run_checks() if m.id and m.id.startswith("oauth_token.")}


def test_a_sound_configuration_passes(signing_keys):
    assert not {i for i in oauth_check_ids() if ".E" in i}
    call_command("check")


@pytest.mark.parametrize(
    "issuer",
    [
        None,
        "",
        "auth.example.test",
        "/relative/",
        "ftp://auth.example.test/",
        "https://x/?a=b",
        "https://x/#f",
    ],
)
def test_issuer_must_be_an_absolute_url(signing_keys, issuer):
    with override_settings(OAUTH_TOKEN={"ISSUER": issuer, "KEY_ENCRYPTION_KEY": KEK}):
        assert "oauth_token.E001" in oauth_check_ids()
        with pytest.raises(SystemCheckError, match=r"oauth_token\.E001"):
            call_command("check")


def test_key_encryption_key_is_required_when_debug_is_off(signing_keys):
    with override_settings(DEBUG=False, OAUTH_TOKEN={"ISSUER": "https://auth.example.test/"}):
        assert "oauth_token.E002" in oauth_check_ids()
        with pytest.raises(SystemCheckError, match=r"oauth_token\.E002"):
            call_command("check")


def test_missing_key_encryption_key_is_only_a_warning_in_debug(signing_keys):
    with override_settings(DEBUG=True, OAUTH_TOKEN={"ISSUER": "https://auth.example.test/"}):
        ids = oauth_check_ids()
    assert "oauth_token.E002" not in ids
    assert "oauth_token.W002" in ids


def test_no_current_signing_key_is_an_error(db):
    assert "oauth_token.E010" in oauth_check_ids()
    with pytest.raises(SystemCheckError, match=r"oauth_token\.E010"):
        call_command("check")


def test_revoked_keys_do_not_count_as_current(db):
    ring = keyring.rotate("RS256")
    keyring.rotate("RS256")
    keyring.revoke(ring.current.kid)
    assert "oauth_token.E010" not in oauth_check_ids()


def test_an_api_signing_with_an_alg_without_a_current_key_is_an_error(signing_keys):
    provisioning.create_api(identifier="https://es.example.com", name="ES", signing_alg="ES256")
    with pytest.raises(SystemCheckError, match="ES256"):
        call_command("check")
    keyring.rotate("ES256")
    assert "oauth_token.E010" not in oauth_check_ids()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # A class registered under another grant_type than the one it declares.
        ({"password": "oauth_token.grants.client_credentials.ClientCredentialsGrant"}, "E012"),
        # Something importable that is not a grant strategy.
        ({"urn:example:grant": "oauth_token.errors.OAuthError"}, "E011"),
        ({"urn:example:grant": "oauth_token.grants.nothing_here.Grant"}, "E008"),
    ],
    ids=["mismatched-grant-type", "not-a-grant", "not-importable"],
)
def test_grant_registry_entries_must_declare_their_grant_type(signing_keys, extra, expected):
    with override_settings(OAUTH_TOKEN={**settings.OAUTH_TOKEN, "EXTRA_GRANT_TYPES": extra}):
        assert f"oauth_token.{expected}" in oauth_check_ids()
