"""POST /oauth/introspect (RFC 7662) for access tokens."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from django.contrib.auth import get_user_model

from oauth_token.models import Client
from oauth_token.registry import keyring
from tests import kit
from tests.inspection_fixtures import API

pytestmark = pytest.mark.django_db

INACTIVE = {"active": False}


@pytest.fixture
def resource_server(make_client: Any) -> tuple[str, str]:
    client, secret = make_client(name="Orders API", can_introspect=True)
    return client.client_id, secret


@pytest.fixture
def introspect(post_form: Any, resource_server: tuple[str, str]) -> Any:
    def post(token: str, **extra: str) -> Any:
        return post_form("/oauth/introspect", {"token": token, **extra}, auth=resource_server)

    return post


def mint(**claims: Any) -> str:
    now = int(time.time())
    base = {
        "iss": "https://auth.example.test/",
        "sub": "svc@clients",
        "aud": API,
        "iat": now,
        "exp": now + 300,
        "jti": f"jti-{now}-{len(claims)}",
        "client_id": "svc",
        "scope": "read:things",
    }
    base.update(claims)
    return keyring.sign(base, typ="at+jwt")


def test_active_access_token_has_its_members(introspect, client_token, m2m):
    token = client_token(m2m)
    claims = jwt.decode(token, options={"verify_signature": False})
    response = introspect(token)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "active": True,
        "scope": "read:things write:things",
        "client_id": m2m[0],
        "sub": f"{m2m[0]}@clients",
        "aud": API,
        "iss": "https://auth.example.test/",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
        "token_type": "Bearer",
    }


def test_user_token_from_the_password_grant(
    introspect, make_client, token_request, api, signing_keys
):
    client, secret = make_client(name="App", grant_types=["password"])
    user = get_user_model().objects.create_user("alice", "a@example.com", "pw-alice-123")
    issued = token_request(
        {
            "grant_type": "password",
            "username": "alice",
            "password": "pw-alice-123",
            "audience": API,
            "scope": "read:things",
        },
        auth=(client.client_id, secret),
    )
    body = introspect(issued.json()["access_token"]).json()
    assert body["active"] is True
    assert body["sub"] == str(user.pk)
    assert body["client_id"] == client.client_id
    assert body["scope"] == "read:things"
    user.is_active = False
    user.save()
    assert introspect(issued.json()["access_token"]).json() == INACTIVE


def test_dpop_bound_token_reports_dpop_and_cnf(introspect, m2m, signing_keys):
    token = mint(
        client_id=m2m[0],
        sub=f"{m2m[0]}@clients",
        cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
    )
    body = introspect(token).json()
    assert body["active"] is True
    assert body["token_type"] == "DPoP"
    assert body["cnf"] == {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}


def test_revoked_token_is_inactive(introspect, post_form, client_token, m2m):
    token = client_token(m2m)
    assert introspect(token).json()["active"] is True
    assert post_form("/oauth/revoke", {"token": token}, auth=m2m).status_code == 200
    assert introspect(token).json() == INACTIVE


def test_expired_token_is_inactive(introspect, m2m, signing_keys):
    now = int(time.time())
    token = mint(client_id=m2m[0], sub=f"{m2m[0]}@clients", iat=now - 600, exp=now - 1)
    assert introspect(token).json() == INACTIVE


def test_token_of_a_deactivated_client_is_inactive(introspect, client_token, m2m):
    token = client_token(m2m)
    client = Client.objects.get(client_id=m2m[0])
    client.is_active = False
    client.save()
    assert introspect(token).json() == INACTIVE


def test_token_signed_by_a_revoked_key_is_inactive(introspect, client_token, m2m):
    token = client_token(m2m)
    old_kid = jwt.get_unverified_header(token)["kid"]
    keyring.rotate("RS256")
    assert introspect(token).json()["active"] is True  # previous keys still verify
    keyring.revoke(old_kid)
    assert introspect(token).json() == INACTIVE


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "x" * 500]
)
def test_garbage_is_inactive(introspect, signing_keys, token):
    response = introspect(token)
    assert response.status_code == 200
    assert response.json() == INACTIVE


def test_foreign_tokens_are_inactive(introspect, m2m, signing_keys):
    stranger = kit.rsa_private_key()
    now = int(time.time())
    claims = {
        "iss": "https://auth.example.test/",
        "sub": f"{m2m[0]}@clients",
        "aud": API,
        "iat": now,
        "exp": now + 60,
        "jti": "forged",
        "client_id": m2m[0],
    }
    headers = {"kid": signing_keys.current.kid, "typ": "at+jwt"}
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers=headers)
    assert introspect(forged).json() == INACTIVE
    other_issuer = mint(iss="https://evil.example/", client_id=m2m[0], sub=f"{m2m[0]}@clients")
    assert introspect(other_issuer).json() == INACTIVE
    not_an_access_token = keyring.sign({**claims, "jti": "id"}, typ="JWT")
    assert introspect(not_an_access_token).json() == INACTIVE


def test_hint_does_not_hide_a_token(introspect, client_token, m2m):
    token = client_token(m2m)
    assert introspect(token, token_type_hint="refresh_token").json()["active"] is True


def test_client_without_can_introspect_is_forbidden(post_form, client_token, m2m):
    token = client_token(m2m)
    response = post_form("/oauth/introspect", {"token": token}, auth=m2m)
    assert response.status_code == 403
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "This client may not introspect tokens.",
    }


def test_public_clients_cannot_introspect(post_form, make_client, signing_keys):
    client, _ = make_client(
        name="SPA", client_type="public", grant_types=["password"], can_introspect=True
    )
    response = post_form("/oauth/introspect", {"token": "x", "client_id": client.client_id})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_authentication_is_required(post_form, resource_server, signing_keys):
    assert post_form("/oauth/introspect", {"token": "x"}).status_code == 401
    wrong = post_form("/oauth/introspect", {"token": "x"}, auth=(resource_server[0], "nope"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_missing_token_is_invalid_request(post_form, resource_server, signing_keys):
    response = post_form("/oauth/introspect", {}, auth=resource_server)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_discovery_lists_the_introspection_endpoint(api_client, signing_keys):
    metadata = api_client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["introspection_endpoint"] == "https://auth.example.test/oauth/introspect"
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
