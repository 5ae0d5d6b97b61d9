from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from oauth_token.models import SigningKey
from oauth_token.registry import keyring

from .conftest import assert_one_line_failure

pytestmark = pytest.mark.django_db


def test_first_rotate_creates_current_and_next(manage, client):
    doc = manage("oauth_keys", "rotate", "--json").json()
    assert set(doc) == {"current", "next", "previous"}
    assert doc["previous"] == []
    assert doc["current"]["alg"] == doc["next"]["alg"] == "RS256"
    states = dict(SigningKey.objects.values_list("kid", "state"))
    assert states == {doc["current"]["kid"]: "current", doc["next"]["kid"]: "next"}
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert published == {doc["current"]["kid"], doc["next"]["kid"]}


def test_rotate_promotes_next_and_keeps_previous_published(manage, client):
    first = manage("oauth_keys", "rotate", "--json").json()
    second = manage("oauth_keys", "rotate", "--json").json()
    assert second["current"] == first["next"]
    assert second["previous"] == [first["current"]]
    assert second["next"]["kid"] not in {first["current"]["kid"], first["next"]["kid"]}
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert published == {
        first["current"]["kid"],
        second["current"]["kid"],
        second["next"]["kid"],
    }


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_rotate_with_alg_creates_a_working_key(manage, alg):
    doc = manage("oauth_keys", "rotate", "--alg", alg, "--json").json()
    assert doc["current"]["alg"] == alg
    token = keyring.sign({"sub": "x", "exp": 9999999999}, alg=alg)
    assert jwt.get_unverified_header(token)["kid"] == doc["current"]["kid"]
    found_alg, key = keyring.verification_key(doc["current"]["kid"])
    assert jwt.decode(token, key, algorithms=[found_alg])["sub"] == "x"


def test_rotate_refuses_unknown_alg(manage):
    result = manage("oauth_keys", "rotate", "--alg", "HS256")
    assert result.code == 2
    assert_one_line_failure(result, "--alg", "HS256")
    assert not SigningKey.objects.exists()


def test_list_json_shape_and_states(manage):
    assert manage("oauth_keys", "list", "--json").json() == []
    first = manage("oauth_keys", "rotate", "--json").json()
    manage("oauth_keys", "rotate", "--json")
    manage("oauth_keys", "revoke", first["current"]["kid"])
    rows = manage("oauth_keys", "list", "--json").json()
    assert [set(r) for r in rows] == [{"kid", "alg", "state", "created_at"}] * 3
    by_kid = {r["kid"]: r["state"] for r in rows}
    assert by_kid[first["current"]["kid"]] == "revoked"
    assert by_kid[first["next"]["kid"]] == "current"
    assert sorted(by_kid.values()) == ["current", "next", "revoked"]


def test_list_human_output_without_keys_says_what_to_do(manage):
    result = manage("oauth_keys", "list")
    assert result.code == 0
    assert "oauth_keys rotate" in result.out


def test_revoke_withdraws_key_and_its_tokens_stop_verifying(manage, client):
    first = manage("oauth_keys", "rotate", "--json").json()
    old_kid = first["current"]["kid"]
    manage("oauth_keys", "rotate", "--json")
    assert keyring.verification_key(old_kid) is not None
    doc = manage("oauth_keys", "revoke", old_kid, "--json").json()
    assert doc["kid"] == old_kid and doc["state"] == "revoked" and doc["revoked_at"]
    assert SigningKey.objects.get(kid=old_kid).state == "revoked"
    assert keyring.verification_key(old_kid) is None
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert old_kid not in published


def test_revoke_unknown_kid_fails_in_one_line(manage):
    manage("oauth_keys", "rotate")
    result = manage("oauth_keys", "revoke", "no-such-kid", "--json")
    assert_one_line_failure(result, "no-such-kid")
    assert not SigningKey.objects.filter(state="revoked").exists()


def test_revoke_current_key_is_refused(manage):
    kid = manage("oauth_keys", "rotate", "--json").json()["current"]["kid"]
    result = manage("oauth_keys", "revoke", kid)
    assert_one_line_failure(result, "current key", "rotate first")
    assert SigningKey.objects.get(kid=kid).state == "current"


def test_prune_deletes_only_previous_keys_past_every_token_lifetime(manage):
    first = manage("oauth_keys", "rotate", "--json").json()
    second = manage("oauth_keys", "rotate", "--json").json()
    manage("oauth_keys", "rotate", "--json")
    old, recent = first["current"]["kid"], second["current"]["kid"]
    SigningKey.objects.filter(kid=old).update(retired_at=timezone.now() - timedelta(days=2))
    doc = manage("oauth_keys", "prune", "--json").json()
    assert doc == {"deleted": [{"kid": old, "alg": "RS256", "state": "previous"}]}
    assert not SigningKey.objects.filter(kid=old).exists()
    assert SigningKey.objects.get(kid=recent).state == "previous"
    assert manage("oauth_keys", "prune", "--json").json() == {"deleted": []}


def test_works_before_any_key_exists_although_check_reports_it(manage):
    from django.core import checks

    assert any(e.id == "oauth_token.E010" for e in checks.run_checks())
    assert manage("oauth_keys", "list", "--json").json() == []


def test_missing_key_encryption_key_fails_in_one_line(manage, settings):
    settings.OAUTH_TOKEN = {"ISSUER": "https://auth.example.test/"}
    result = manage("oauth_keys", "rotate", "--json")
    assert_one_line_failure(result, "KEY_ENCRYPTION_KEY")
    assert not SigningKey.objects.exists()


def test_json_output_never_contains_private_key_material(manage):
    result = manage("oauth_keys", "rotate", "--json")
    listing = manage("oauth_keys", "list", "--json")
    for text in (result.out, listing.out):
        assert "PRIVATE" not in text and '"d"' not in text and "v1:" not in text


def test_kids_never_look_like_command_line_options(manage, monkeypatch):
    """A thumbprint may start with "-"; `oauth_keys revoke KID` must still take it."""
    from oauth_token.core import jose

    counter = iter(range(100))
    monkeypatch.setattr(
        jose, "jwk_thumbprint", lambda jwk: f"--dash-first-{next(counter):02}-0123456789"
    )
    doc = manage("oauth_keys", "rotate", "--alg", "EdDSA", "--json").json()
    assert doc["current"]["kid"].startswith("dash-first")


def test_rotate_refuses_alg_outside_signing_algorithms_setting(manage, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "SIGNING_ALGORITHMS": ["ES256"]}
    result = manage("oauth_keys", "rotate", "--alg", "RS256", "--json")
    assert_one_line_failure(result, "'RS256' is not allowed", "ES256")
    assert not SigningKey.objects.exists()
    assert (
        manage("oauth_keys", "rotate", "--alg", "ES256", "--json").json()["current"]["alg"]
        == "ES256"
    )
