"""The refresh_token grant at POST /oauth/token (RFC 6749 §6, RFC 9700 §4.14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_token.core import secrets
from oauth_token.models import (
    RefreshToken,
    RefreshTokenFamily,
    RevokedAccessToken,
)
from oauth_token.tokens import refresh_tokens
from oauth_token.tokens.revocation import is_revoked
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db


def decode_id_token(token: str) -> dict:
    import jwt

    from oauth_token.registry import keyring

    alg, key = keyring.verification_key(jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key, algorithms=[alg], options={"verify_aud": False})


def set_oauth(settings, **overrides):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **overrides}


def assert_invalid_grant(response, fragment: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert fragment in body["error_description"]
    assert response["Cache-Control"] == "no-store"


@pytest.fixture
def family_tokens(offline_api, rt_client, start_family):
    client, _ = rt_client
    issued = start_family(client)
    assert issued.refresh_token
    return issued


def test_refresh_rotates_and_issues_access_token_for_the_family(
    family_tokens, refresh, rt_client, resource_owner
):
    client, _ = rt_client
    first = family_tokens.refresh_token
    response = refresh(first)

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    # openid was granted, so an ID token comes too (OIDC Core §12.2), as Auth0 does.
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "id_token",
    }
    id_token = decode_id_token(body["id_token"])
    assert id_token["sub"] == str(resource_owner.pk) and id_token["aud"] == client.client_id
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "openid profile read:things write:things offline_access"
    assert body["refresh_token"] != first
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url
    claims = access_claims(body["access_token"])
    assert claims["sub"] == str(resource_owner.pk)
    assert claims["client_id"] == client.client_id
    assert claims["scope"] == body["scope"]
    assert "https://api.example.com" in (
        claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    )
    assert claims["jti"] != family_tokens.access_token.jti
    assert claims["auth_time"] == family_tokens.access_token.claims["auth_time"]

    family = RefreshTokenFamily.objects.get()
    old, new = RefreshToken.objects.order_by("created_at", "id")
    assert old.used_at is not None
    assert new.parent_id == old.pk and new.used_at is None
    assert new.token_digest == secrets.digest(body["refresh_token"])
    assert {jti for jti, _ in refresh_tokens.issued_access_tokens(family)} == {
        family_tokens.access_token.jti,
        claims["jti"],
    }


def test_successor_works_and_chain_continues(family_tokens, refresh):
    second = refresh(family_tokens.refresh_token).json()["refresh_token"]
    third = refresh(second)
    assert third.status_code == 200, third.content
    assert third.json()["refresh_token"] not in (second, family_tokens.refresh_token)
    assert RefreshToken.objects.count() == 3
    assert RefreshTokenFamily.objects.count() == 1


def test_json_body_is_accepted(family_tokens, token_request, rt_client):
    client, secret = rt_client
    response = token_request(
        {"grant_type": "refresh_token", "refresh_token": family_tokens.refresh_token},
        auth=(client.client_id, secret),
        json=True,
    )
    assert response.status_code == 200, response.content


def test_reuse_of_rotated_token_revokes_the_whole_family(family_tokens, refresh):
    first = family_tokens.refresh_token
    rotated = refresh(first).json()
    second_access_jti = access_claims(rotated["access_token"])["jti"]

    reuse = refresh(first)

    assert_invalid_grant(reuse, "already been used")
    family = RefreshTokenFamily.objects.get()
    assert family.revoked_at is not None and family.revoked_reason == "reuse"
    # Every access token issued from the family is on the denylist ...
    assert is_revoked(family_tokens.access_token.jti)
    assert is_revoked(second_access_jti)
    assert set(RevokedAccessToken.objects.values_list("jti", flat=True)) == {
        family_tokens.access_token.jti,
        second_access_jti,
    }
    # ... and every refresh token of it, including the unused successor, is dead.
    assert_invalid_grant(refresh(rotated["refresh_token"]), "revoked")
    assert RefreshToken.objects.count() == 2


def test_reuse_within_leeway_returns_the_same_successor(settings, family_tokens, refresh):
    set_oauth(settings, REFRESH_TOKEN_REUSE_LEEWAY=30)
    first = family_tokens.refresh_token
    a = refresh(first)
    b = refresh(first)

    assert a.status_code == b.status_code == 200, b.content
    assert a.json()["refresh_token"] == b.json()["refresh_token"]
    assert a.json()["access_token"] != b.json()["access_token"]
    assert RefreshToken.objects.count() == 2
    family = RefreshTokenFamily.objects.get()
    assert family.revoked_at is None
    assert len(refresh_tokens.issued_access_tokens(family)) == 3
    assert not RevokedAccessToken.objects.exists()
    # The successor is still good, exactly once.
    assert refresh(a.json()["refresh_token"]).status_code == 200


def test_reuse_after_leeway_revokes(settings, family_tokens, refresh):
    set_oauth(settings, REFRESH_TOKEN_REUSE_LEEWAY=30)
    first = family_tokens.refresh_token
    assert refresh(first).status_code == 200
    RefreshToken.objects.filter(used_at__isnull=False).update(
        used_at=timezone.now() - timedelta(seconds=31)
    )

    assert_invalid_grant(refresh(first), "already been used")
    assert RefreshTokenFamily.objects.get().revoked_reason == "reuse"
    assert is_revoked(family_tokens.access_token.jti)


def test_leeway_does_not_revive_a_successor_that_was_already_used(settings, family_tokens, refresh):
    set_oauth(settings, REFRESH_TOKEN_REUSE_LEEWAY=30)
    first = family_tokens.refresh_token
    second = refresh(first).json()["refresh_token"]
    assert refresh(second).status_code == 200

    assert_invalid_grant(refresh(first), "already been used")
    assert RefreshTokenFamily.objects.get().revoked_at is not None


def test_scope_may_narrow_without_narrowing_the_family(family_tokens, refresh):
    narrowed = refresh(family_tokens.refresh_token, scope="read:things")
    assert narrowed.status_code == 200, narrowed.content
    body = narrowed.json()
    assert body["scope"] == "read:things"
    assert access_claims(body["access_token"])["scope"] == "read:things"
    assert body["refresh_token"]

    full = refresh(body["refresh_token"])
    assert full.json()["scope"] == "openid profile read:things write:things offline_access"


def test_wider_scope_is_invalid_scope_and_changes_nothing(family_tokens, refresh):
    response = refresh(family_tokens.refresh_token, scope="read:things delete:things")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "delete:things" in response.json()["error_description"]
    token = RefreshToken.objects.get()
    assert token.used_at is None
    assert len(refresh_tokens.issued_access_tokens(token.family)) == 1
    assert refresh(family_tokens.refresh_token).status_code == 200


def test_blank_scope_is_invalid_scope(family_tokens, refresh):
    response = refresh(family_tokens.refresh_token, scope="   ")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_token_of_another_client_is_refused_and_left_intact(family_tokens, refresh, make_client):
    other, secret = make_client(name="Other", grant_types=None)
    response = refresh(family_tokens.refresh_token, auth=(other.client_id, secret))

    assert_invalid_grant(response, "not issued to this client")
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_at is None
    assert refresh(family_tokens.refresh_token).status_code == 200


def test_unknown_token_is_invalid_grant(family_tokens, refresh):
    assert_invalid_grant(refresh("x" * 43), "invalid")
    assert_invalid_grant(refresh("x" * 600), "invalid")


def test_missing_refresh_token_is_invalid_request(family_tokens, token_request, rt_client):
    client, secret = rt_client
    response = token_request({"grant_type": "refresh_token"}, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter: refresh_token.",
    }


def test_client_without_refresh_grant_is_unauthorized(family_tokens, refresh, make_client):
    client, secret = make_client(name="M2M", grant_types=["client_credentials"])
    response = refresh(family_tokens.refresh_token, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_wrong_client_secret_is_invalid_client(family_tokens, refresh, rt_client):
    client, _ = rt_client
    response = refresh(family_tokens.refresh_token, auth=(client.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert RefreshToken.objects.get().used_at is None


def test_idle_expired_token_is_refused(family_tokens, refresh):
    RefreshToken.objects.update(idle_expires_at=timezone.now() - timedelta(seconds=1))
    assert_invalid_grant(refresh(family_tokens.refresh_token), "inactivity")
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_at is None


def test_absolutely_expired_family_is_refused(family_tokens, refresh):
    RefreshTokenFamily.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_invalid_grant(refresh(family_tokens.refresh_token), "expired")


def test_lifetimes_follow_settings(settings, offline_api, rt_client, start_family):
    set_oauth(settings, REFRESH_TOKEN_ABSOLUTE_LIFETIME=1000, REFRESH_TOKEN_IDLE_LIFETIME=600)
    client, _ = rt_client
    start_family(client)
    family = RefreshTokenFamily.objects.get()
    first = RefreshToken.objects.get()
    assert family.expires_at - family.created_at == timedelta(seconds=1000)
    assert first.idle_expires_at - first.created_at == timedelta(seconds=600)


def test_successor_idle_deadline_is_capped_by_absolute_expiry(
    settings, offline_api, rt_client, start_family, refresh
):
    set_oauth(settings, REFRESH_TOKEN_ABSOLUTE_LIFETIME=1000, REFRESH_TOKEN_IDLE_LIFETIME=600)
    client, _ = rt_client
    issued = start_family(client)
    family = RefreshTokenFamily.objects.get()
    # The family is 700 s old: 300 s of absolute lifetime remain, less than the idle lifetime.
    family.created_at -= timedelta(seconds=700)
    family.expires_at -= timedelta(seconds=700)
    family.save()

    assert refresh(issued.refresh_token).status_code == 200
    successor = RefreshToken.objects.get(used_at__isnull=True)
    assert successor.idle_expires_at == family.expires_at


def test_lifetimes_of_zero_mean_unlimited(settings, offline_api, rt_client, start_family):
    set_oauth(settings, REFRESH_TOKEN_ABSOLUTE_LIFETIME=0, REFRESH_TOKEN_IDLE_LIFETIME=0)
    client, _ = rt_client
    start_family(client)
    assert RefreshTokenFamily.objects.get().expires_at is None
    assert RefreshToken.objects.get().idle_expires_at is None


def test_inactive_user_is_refused(family_tokens, refresh, resource_owner):
    resource_owner.is_active = False
    resource_owner.save()
    assert_invalid_grant(refresh(family_tokens.refresh_token), "no longer active")
    assert RefreshToken.objects.get().used_at is None


def test_api_that_stopped_allowing_offline_access_refuses(family_tokens, refresh, offline_api):
    offline_api.allow_offline_access = False
    offline_api.save()
    assert_invalid_grant(refresh(family_tokens.refresh_token), "no longer allows")


def test_rotation_off_keeps_the_token_and_extends_its_idle_deadline(
    settings, family_tokens, refresh
):
    set_oauth(settings, REFRESH_TOKEN_ROTATION=False)
    token = RefreshToken.objects.get()
    RefreshToken.objects.update(idle_expires_at=timezone.now() + timedelta(seconds=5))

    first = refresh(family_tokens.refresh_token)
    second = refresh(family_tokens.refresh_token)

    assert first.status_code == second.status_code == 200
    assert "refresh_token" not in first.json()
    token.refresh_from_db()
    assert token.used_at is None and token.last_used_at is not None
    assert token.idle_expires_at > timezone.now() + timedelta(days=14)
    assert RefreshToken.objects.count() == 1
    assert len(refresh_tokens.issued_access_tokens(token.family)) == 3


def test_public_client_refreshes_with_its_client_id(
    offline_api, public_rt_client, start_family, token_request
):
    issued = start_family(public_rt_client)
    response = token_request(
        {
            "grant_type": "refresh_token",
            "refresh_token": issued.refresh_token,
            "client_id": public_rt_client.client_id,
        }
    )
    assert response.status_code == 200, response.content
    assert response.json()["refresh_token"] != issued.refresh_token
