from __future__ import annotations

import time

import jwt
import pytest

from oauth_token.registry import keyring, provisioning
from tests.conftest import database_state
from tests.responses import assert_error, assert_token

pytestmark = pytest.mark.django_db


def test_issues_rfc9068_access_token(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "read:things write:things"
    assert "refresh_token" not in body and "id_token" not in body
    assert response["Cache-Control"] == "no-store"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["kid"] == signing_keys.current.kid
    alg, key = keyring.verification_key(header["kid"])
    claims = jwt.decode(
        body["access_token"], key, algorithms=[alg], audience="https://api.example.com"
    )
    assert claims["sub"] == f"{client.client_id}@clients"
    assert claims["client_id"] == client.client_id
    assert claims["iss"] == "https://auth.example.test/"
    assert claims["exp"] - claims["iat"] == 86400


# --- behaviour of the grant (RFC 6749 §4.4, Auth0 client grants) ---------------------------

AUDIENCE = "https://api.example.com"
CC = {"grant_type": "client_credentials", "audience": AUDIENCE}


def _claims(body):
    return jwt.decode(body["access_token"], options={"verify_signature": False})


def test_requested_scopes_narrow_the_token(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    body = assert_token(
        token_request({**CC, "scope": "write:things"}, auth=(client.client_id, secret))
    )
    assert body["scope"] == "write:things"
    assert _claims(body)["scope"] == "write:things"


def test_repeated_scopes_are_granted_once(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    body = assert_token(
        token_request({**CC, "scope": "read:things read:things"}, auth=(client.client_id, secret))
    )
    assert body["scope"] == "read:things"


def test_scope_beyond_the_grant_is_invalid_scope(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    before = database_state()
    response = token_request(
        {**CC, "scope": "read:things delete:things"}, auth=(client.client_id, secret)
    )
    body = assert_error(response, "invalid_scope")
    assert "delete:things" in body["error_description"]
    assert database_state() == before


def test_scope_unknown_to_the_api_is_invalid_scope(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request({**CC, "scope": "launch:rockets"}, auth=(client.client_id, secret))
    assert_error(response, "invalid_scope")


def test_audience_without_a_client_grant_is_access_denied(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    provisioning.create_api(identifier="https://billing.example.com", name="Billing", scopes=["x"])
    before = database_state()
    response = token_request(
        {**CC, "audience": "https://billing.example.com"}, auth=(client.client_id, secret)
    )
    assert_error(response, "access_denied")
    assert database_state() == before


def test_unknown_audience_is_invalid_target(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request(
        {**CC, "audience": "https://nowhere.example.com"}, auth=(client.client_id, secret)
    )
    assert_error(response, "invalid_target")


def test_missing_audience_without_default_is_invalid_target(
    signing_keys, m2m_client, token_request
):
    client, secret = m2m_client
    response = token_request({"grant_type": "client_credentials"}, auth=(client.client_id, secret))
    assert_error(response, "invalid_target")


def test_missing_audience_uses_the_default_audience(
    signing_keys, m2m_client, token_request, settings
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DEFAULT_AUDIENCE": AUDIENCE}
    client, secret = m2m_client
    body = assert_token(
        token_request({"grant_type": "client_credentials"}, auth=(client.client_id, secret))
    )
    assert _claims(body)["aud"] == AUDIENCE


def test_client_without_the_grant_type_is_unauthorized_client(
    signing_keys, make_client, api, token_request
):
    client, secret = make_client(name="Web app", grant_types=["authorization_code"])
    provisioning.grant(client, api)
    before = database_state()
    response = token_request(CC, auth=(client.client_id, secret))
    assert_error(response, "unauthorized_client")
    assert database_state() == before


@pytest.mark.parametrize("grant_type", ["password_please", "implicit", "urn:x:y"])
def test_unknown_grant_type_is_unsupported_grant_type(
    signing_keys, m2m_client, token_request, grant_type
):
    client, secret = m2m_client
    response = token_request({**CC, "grant_type": grant_type}, auth=(client.client_id, secret))
    assert_error(response, "unsupported_grant_type")


def test_unsupported_grant_type_needs_no_valid_client(signing_keys, token_request):
    """The grant type is checked first: nothing about clients can be learned from it."""
    response = token_request({"grant_type": "nope"}, auth=("ghost", "secret"))
    assert_error(response, "unsupported_grant_type")


def test_expires_in_and_exp_follow_the_api_lifetime(signing_keys, make_client, token_request):
    api = provisioning.create_api(
        identifier="https://short.example.com", name="Short", scopes=["a"], token_lifetime=600
    )
    client, secret = make_client(name="M")
    provisioning.grant(client, api)
    body = assert_token(
        token_request(
            {"grant_type": "client_credentials", "audience": api.identifier},
            auth=(client.client_id, secret),
        )
    )
    claims = _claims(body)
    assert body["expires_in"] == 600 == claims["exp"] - claims["iat"]
    assert abs(claims["iat"] - time.time()) < 5


def test_token_carries_every_rfc9068_claim(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    claims = _claims(body)
    assert {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"} <= set(claims)
    assert claims["gty"] == "client-credentials"
    second = _claims(assert_token(token_request(CC, auth=(client.client_id, secret))))
    assert second["jti"] != claims["jti"]


def test_grant_with_no_scopes_issues_a_token_without_scope(
    signing_keys, make_client, api, token_request
):
    client, secret = make_client(name="Scopeless")
    provisioning.grant(client, api, [])
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert "scope" not in body
    assert _claims(body).get("scope", "") == ""


def test_scope_removed_from_the_api_is_no_longer_issued(
    signing_keys, m2m_client, api, token_request
):
    """The grant still lists write:things, but the API no longer defines it."""
    client, secret = m2m_client
    api.scopes.get(name="write:things").delete()
    body = assert_token(token_request(CC, auth=(client.client_id, secret)))
    assert body["scope"] == "read:things"
    response = token_request({**CC, "scope": "write:things"}, auth=(client.client_id, secret))
    assert_error(response, "invalid_scope")


def test_token_endpoint_issues_no_refresh_token_for_client_credentials(
    signing_keys, make_client, token_request
):
    """RFC 6749 §4.4.3: a refresh token SHOULD NOT be included, even with offline access."""
    api = provisioning.create_api(
        identifier="https://offline.example.com",
        name="Offline",
        scopes=["offline_access", "read"],
        allow_offline_access=True,
    )
    client, secret = make_client(name="M")
    provisioning.grant(client, api)
    body = assert_token(
        token_request(
            {"grant_type": "client_credentials", "audience": api.identifier},
            auth=(client.client_id, secret),
        )
    )
    assert "refresh_token" not in body and "id_token" not in body


def test_missing_signing_key_is_a_json_server_error(m2m_client, token_request):
    """An operator's mistake (``manage.py check`` reports it as E010): JSON, never HTML."""
    client, secret = m2m_client
    body = assert_error(token_request(CC, auth=(client.client_id, secret)), "server_error", 500)
    assert "misconfigured" in body["error_description"]
