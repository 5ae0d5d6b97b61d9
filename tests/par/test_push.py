"""POST /oauth/par (RFC 9126 §2)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from oauth_token.authorize.par import REQUEST_URI_PREFIX
from oauth_token.models import PushedAuthorizationRequest

from .conftest import CALLBACK, authorization_request, row_for

pytestmark = pytest.mark.django_db


def test_push_returns_201_with_single_use_request_uri(web_client, push):
    client, secret = web_client
    response = push(authorization_request(), auth=(client.client_id, secret))
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"request_uri", "expires_in"}
    assert body["expires_in"] == 60
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert len(body["request_uri"]) - len(REQUEST_URI_PREFIX) >= 43

    row = row_for(body["request_uri"])
    assert row.client_id == client.pk
    assert row.consumed_at is None
    assert 59 <= (row.expires_at - timezone.now()).total_seconds() <= 60
    assert row.parameters == {**authorization_request(), "client_id": client.client_id}
    assert body["request_uri"] not in str(row.__dict__)


def test_client_secret_post_credentials_are_not_stored(web_client, push, make_client):
    client, secret = make_client(
        name="Post app",
        grant_types=["authorization_code"],
        redirect_uris=[CALLBACK],
        auth_method="client_secret_post",
    )
    response = push(
        {**authorization_request(), "client_id": client.client_id, "client_secret": secret}
    )
    assert response.status_code == 201, response.content
    stored = row_for(response.json()["request_uri"]).parameters
    assert "client_secret" not in stored
    assert stored["client_id"] == client.client_id


def test_public_client_pushes_with_client_id_and_pkce(spa_client, api, push):
    response = push({**authorization_request(), "client_id": spa_client.client_id})
    assert response.status_code == 201, response.content


def test_public_client_without_pkce_is_invalid_request(spa_client, api, push):
    response = push(
        {
            **authorization_request(code_challenge=None, code_challenge_method=None),
            "client_id": spa_client.client_id,
        }
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not PushedAuthorizationRequest.objects.exists()


def test_lifetime_follows_settings(web_client, push, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PAR_LIFETIME": 30}
    client, secret = web_client
    body = push(authorization_request(), auth=(client.client_id, secret)).json()
    assert body["expires_in"] == 30


def test_each_push_gets_its_own_request_uri(web_client, push):
    client, secret = web_client
    first = push(authorization_request(), auth=(client.client_id, secret)).json()
    second = push(authorization_request(), auth=(client.client_id, secret)).json()
    assert first["request_uri"] != second["request_uri"]


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"response_type": None}, 400, "invalid_request"),
        ({"response_type": "token"}, 400, "unsupported_response_type"),
        ({"redirect_uri": "https://evil.example.com/callback"}, 400, "invalid_request"),
        ({"redirect_uri": None}, 400, "invalid_request"),  # two registered: must choose
        ({"code_challenge_method": "plain"}, 400, "invalid_request"),
        ({"code_challenge": "short"}, 400, "invalid_request"),
        ({"audience": "https://nope.example.com"}, 400, "invalid_target"),
        ({"scope": "admin", "audience": None}, 400, "invalid_scope"),
        ({"request_uri": f"{REQUEST_URI_PREFIX}abc"}, 400, "invalid_request"),
        ({"prompt": "none login"}, 400, "invalid_request"),
        ({"response_mode": "fragment"}, 400, "invalid_request"),
        ({"max_age": "-1"}, 400, "invalid_request"),
    ],
    ids=[
        "no-response-type",
        "implicit",
        "unregistered-redirect",
        "ambiguous-redirect",
        "plain-pkce",
        "malformed-challenge",
        "unknown-audience",
        "no-usable-scope",
        "nested-request-uri",
        "prompt-none-with-login",
        "fragment-response-mode",
        "negative-max-age",
    ],
)
def test_invalid_authorization_request_is_refused_and_not_stored(
    web_client, push, overrides, status, error
):
    client, secret = web_client
    response = push(authorization_request(**overrides), auth=(client.client_id, secret))
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert not PushedAuthorizationRequest.objects.exists()


def test_request_object_is_refused(web_client, push):
    client, secret = web_client
    response = push(
        {**authorization_request(), "request": "eyJhbGciOiJub25lIn0.e30."},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 400
    assert not PushedAuthorizationRequest.objects.exists()


def test_client_id_of_another_client_is_invalid_request(web_client, spa_client, push):
    client, secret = web_client
    response = push(
        {**authorization_request(), "client_id": spa_client.client_id},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not PushedAuthorizationRequest.objects.exists()


def test_wrong_secret_is_invalid_client(web_client, push):
    client, _ = web_client
    response = push(authorization_request(), auth=(client.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response
    assert not PushedAuthorizationRequest.objects.exists()


def test_missing_client_authentication_is_invalid_client(db, push):
    response = push(authorization_request())
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_without_authorization_code_grant_is_unauthorized(m2m_client, push):
    client, secret = m2m_client
    response = push(authorization_request(), auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_get_is_405_json(api_client, db):
    response = api_client.get("/oauth/par")
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_discovery_advertises_par(api_client, signing_keys, settings):
    body = api_client.get("/.well-known/openid-configuration").json()
    assert body["pushed_authorization_request_endpoint"] == "https://auth.example.test/oauth/par"
    assert body["require_pushed_authorization_requests"] is False
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
    body = api_client.get("/.well-known/oauth-authorization-server").json()
    assert body["require_pushed_authorization_requests"] is True
