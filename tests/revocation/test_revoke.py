"""POST /oauth/revoke (RFC 7009) for access tokens."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model

from oauth_token.core import secrets
from oauth_token.models import RevokedAccessToken
from oauth_token.registry import keyring
from oauth_token.tokens.revocation import is_revoked
from tests import kit
from tests.inspection_fixtures import API

pytestmark = pytest.mark.django_db


def jti_of(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


def test_revokes_own_access_token_by_denylisting_its_jti(post_form, client_token, m2m):
    token = client_token(m2m)
    response = post_form("/oauth/revoke", {"token": token}, auth=m2m)
    assert response.status_code == 200
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"
    row = RevokedAccessToken.objects.get()
    assert row.jti == jti_of(token)
    assert row.client_id == m2m[0]
    assert abs(row.expires_at.timestamp() - (time.time() + 86400)) < 60
    assert is_revoked(row.jti)


@pytest.mark.urls("tests.resource_server.views")
def test_revoked_access_token_is_refused_by_resource_servers_that_check(
    post_form, client_token, m2m, api_client, settings
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "RESOURCE_SERVER_CHECK_REVOCATION": True}
    token = client_token(m2m)
    assert api_client.get("/api/things", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert post_form("/oauth/revoke", {"token": token}, auth=m2m).status_code == 200
    refused = api_client.get("/api/things", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]
    # Without revocation checking a resource server relies on expiry alone.
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "RESOURCE_SERVER_CHECK_REVOCATION": False}
    assert api_client.get("/api/things", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "something_else"])
def test_hint_only_orders_the_search(post_form, client_token, m2m, hint):
    token = client_token(m2m)
    response = post_form("/oauth/revoke", {"token": token, "token_type_hint": hint}, auth=m2m)
    assert response.status_code == 200
    assert is_revoked(jti_of(token))


def test_revoking_twice_is_fine(post_form, client_token, m2m):
    token = client_token(m2m)
    assert post_form("/oauth/revoke", {"token": token}, auth=m2m).status_code == 200
    assert post_form("/oauth/revoke", {"token": token}, auth=m2m).status_code == 200
    assert RevokedAccessToken.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "fresh-random"],
)
def test_unknown_tokens_get_200_and_change_nothing(post_form, m2m, signing_keys, token):
    if token == "fresh-random":  # drawn here, so test ids stay stable (pytest-xdist needs that)
        token = secrets.new_secret()
    response = post_form("/oauth/revoke", {"token": token}, auth=m2m)
    assert response.status_code == 200
    assert response.content == b""
    assert not RevokedAccessToken.objects.exists()


def test_expired_token_gets_200_and_is_not_listed(post_form, m2m, signing_keys):
    now = int(time.time())
    expired = keyring.sign(
        {
            "iss": "https://auth.example.test/",
            "sub": f"{m2m[0]}@clients",
            "aud": API,
            "iat": now - 7200,
            "exp": now - 3600,
            "jti": "expired-jti",
            "client_id": m2m[0],
        },
        typ="at+jwt",
    )
    assert post_form("/oauth/revoke", {"token": expired}, auth=m2m).status_code == 200
    assert not RevokedAccessToken.objects.exists()


def test_token_of_another_client_is_refused_and_stays_valid(
    post_form, client_token, m2m, other_m2m
):
    token = client_token(other_m2m)
    response = post_form("/oauth/revoke", {"token": token}, auth=m2m)
    assert response.status_code == 400
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "The token was not issued to this client.",
    }
    assert not RevokedAccessToken.objects.exists()
    assert not is_revoked(jti_of(token))


def test_token_signed_by_someone_else_is_unknown(post_form, m2m, signing_keys):
    import jwt

    stranger = kit.rsa_private_key()
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "https://auth.example.test/",
            "sub": "x@clients",
            "aud": API,
            "iat": now,
            "exp": now + 60,
            "jti": "forged",
            "client_id": m2m[0],
        },
        stranger,
        algorithm="RS256",
        headers={"kid": signing_keys.current.kid, "typ": "at+jwt"},
    )
    assert post_form("/oauth/revoke", {"token": forged}, auth=m2m).status_code == 200
    assert not RevokedAccessToken.objects.exists()


def test_missing_token_is_invalid_request(post_form, m2m, signing_keys):
    response = post_form("/oauth/revoke", {}, auth=m2m)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_client_authentication_is_required(post_form, client_token, m2m):
    token = client_token(m2m)
    anonymous = post_form("/oauth/revoke", {"token": token})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    wrong = post_form("/oauth/revoke", {"token": token}, auth=(m2m[0], "wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in wrong
    assert not RevokedAccessToken.objects.exists()


def test_public_client_identifies_itself_and_revokes_its_own_token(
    post_form, make_client, token_request, api, signing_keys
):
    client, _ = make_client(name="SPA", client_type="public", grant_types=["password"])
    get_user_model().objects.create_user("alice", "a@example.com", "pw-alice-123")
    issued = token_request(
        {
            "grant_type": "password",
            "client_id": client.client_id,
            "username": "alice",
            "password": "pw-alice-123",
            "audience": API,
        }
    )
    assert issued.status_code == 200, issued.content
    token = issued.json()["access_token"]
    response = post_form("/oauth/revoke", {"token": token, "client_id": client.client_id})
    assert response.status_code == 200
    assert is_revoked(jti_of(token))


def test_get_is_not_allowed(api_client, signing_keys):
    response = api_client.get("/oauth/revoke")
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_discovery_lists_the_revocation_endpoint(api_client, signing_keys):
    metadata = api_client.get("/.well-known/openid-configuration").json()
    assert metadata["revocation_endpoint"] == "https://auth.example.test/oauth/revoke"
    assert "client_secret_basic" in metadata["revocation_endpoint_auth_methods_supported"]
