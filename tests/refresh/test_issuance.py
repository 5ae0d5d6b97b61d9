"""When issuance starts a refresh-token family, and what the family records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oauth_token.models import RefreshFamilyAccessToken, RefreshToken, RefreshTokenFamily
from oauth_token.tokens import refresh_tokens

pytestmark = pytest.mark.django_db


def test_offline_access_for_a_user_starts_a_family(
    offline_api, rt_client, start_family, resource_owner
):
    client, _ = rt_client
    issued = start_family(client, auth_time=1_700_000_000)

    assert issued.refresh_token
    assert "refresh_token" in issued.as_body()
    family = RefreshTokenFamily.objects.get()
    assert family.client == client
    assert family.user == resource_owner
    assert family.subject == str(resource_owner.pk)
    assert family.audience == "https://api.example.com"
    assert family.scopes == ["openid", "profile", "read:things", "write:things", "offline_access"]
    assert family.auth_time == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert family.grant_type == "authorization_code"
    assert family.dpop_jkt is None
    assert family.revoked_at is None
    assert family.expires_at is not None
    assert RefreshToken.objects.get().parent is None
    assert [jti for jti, _ in refresh_tokens.issued_access_tokens(family)] == [
        issued.access_token.jti
    ]
    assert RefreshToken.objects.get().access_token_jti == issued.access_token.jti
    assert not RefreshFamilyAccessToken.objects.exists()  # recorded on the token's row


def test_no_refresh_token_without_offline_access(offline_api, rt_client, start_family):
    client, _ = rt_client
    issued = start_family(client, scopes=("openid", "read:things"))
    assert issued.refresh_token is None
    assert "refresh_token" not in issued.as_body()
    assert not RefreshTokenFamily.objects.exists()


def test_no_refresh_token_when_the_api_disallows_offline_access(api, rt_client, start_family):
    client, _ = rt_client
    assert not api.allow_offline_access
    assert start_family(client).refresh_token is None
    assert not RefreshTokenFamily.objects.exists()


def test_no_refresh_token_for_a_client_without_the_refresh_grant(
    offline_api, make_client, start_family
):
    client, _ = make_client(name="Code only", grant_types=["authorization_code"])
    assert start_family(client).refresh_token is None
    assert not RefreshTokenFamily.objects.exists()


def test_openid_only_grant_gets_a_refresh_token(rt_client, start_family):
    client, _ = rt_client
    issued = start_family(client, api=None, scopes=("openid", "profile", "offline_access"))
    assert issued.refresh_token
    assert RefreshTokenFamily.objects.get().audience == ""


def test_no_refresh_token_without_a_user(offline_api, rt_client, start_family):
    client, _ = rt_client
    issued = start_family(client, user=None)
    assert issued.refresh_token is None and issued.refresh_family is None
    assert not RefreshTokenFamily.objects.exists()


def test_issuance_returns_the_family_it_started(offline_api, rt_client, start_family):
    client, _ = rt_client
    issued = start_family(client)
    family = RefreshTokenFamily.objects.get()
    assert issued.refresh_family == family
    assert [jti for jti, _ in refresh_tokens.issued_access_tokens(family)] == [
        issued.access_token.jti
    ]


def test_successor_values_are_keyed_and_distinct():
    a = refresh_tokens.successor_value("parent", 1, "k" * 40)
    assert a == refresh_tokens.successor_value("parent", 1, "k" * 40)
    assert a != refresh_tokens.successor_value("parent", 2, "k" * 40)
    assert a != refresh_tokens.successor_value("parent2", 1, "k" * 40)
    assert a != refresh_tokens.successor_value("parent", 1, "j" * 40)
    assert len(a) == 43  # 256 bits, base64url without padding
