"""GET/POST /userinfo (OIDC Core §5.3) with RFC 6750 errors."""

from __future__ import annotations

import pytest

from oauth_token.tokens import revocation
from tests.authorize.helpers import API, CALLBACK

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_tokens(signing_keys, first_party_app, obtain_code, token_request):
    client, secret = first_party_app

    def get(**params):
        code, verifier = obtain_code(client, **params)
        response = token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth=(client.client_id, secret),
        )
        assert response.status_code == 200, response.content
        return response.json()

    return get


def userinfo(api_client, token=None, method="get", scheme="Bearer"):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} if token else {}
    return getattr(api_client, method)("/userinfo", **headers)


@pytest.mark.parametrize("method", ["get", "post"])
def test_userinfo_returns_claims_for_the_scopes(api_client, user_tokens, user, method):
    body = user_tokens(scope="openid profile email")
    response = userinfo(api_client, body["access_token"], method=method)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "sub": str(user.pk),
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "preferred_username": "alice",
        "updated_at": response.json()["updated_at"],
        "email": "alice@example.com",
        "email_verified": False,
    }


def test_userinfo_only_what_the_scopes_allow(api_client, user_tokens, user):
    body = user_tokens(scope="openid email")
    assert userinfo(api_client, body["access_token"]).json() == {
        "sub": str(user.pk),
        "email": "alice@example.com",
        "email_verified": False,
    }


def test_userinfo_with_an_api_audience_too(api_client, user_tokens, offline_api, user):
    body = user_tokens(scope="openid read:things", audience=API)
    assert userinfo(api_client, body["access_token"]).json() == {"sub": str(user.pk)}


def test_no_token_is_401_with_a_challenge(api_client):
    response = userinfo(api_client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="oauth"')
    assert "error=" not in response["WWW-Authenticate"]  # RFC 6750 §3.1


def test_invalid_token_is_401_invalid_token(api_client, signing_keys):
    response = userinfo(api_client, "not.a.jwt")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_token_for_another_audience_is_refused(api_client, user_tokens, offline_api):
    body = user_tokens(scope="read:things", audience=API)  # no openid: no userinfo audience
    response = userinfo(api_client, body["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_client_credentials_token_is_refused(api_client, signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    token = token_request(
        {"grant_type": "client_credentials", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    ).json()["access_token"]
    response = userinfo(api_client, token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_revoked_token_is_refused(api_client, user_tokens):
    from datetime import UTC, datetime

    import jwt

    body = user_tokens(scope="openid")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    revocation.revoke_access_tokens([(claims["jti"], datetime.fromtimestamp(claims["exp"], UTC))])
    response = userinfo(api_client, body["access_token"])
    assert response.status_code == 401
    assert "revoked" in response.json()["error_description"]
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_inactive_user_is_refused(api_client, user_tokens, user):
    body = user_tokens(scope="openid")
    user.is_active = False
    user.save()
    response = userinfo(api_client, body["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_cors_preflight(api_client):
    response = api_client.options("/userinfo", HTTP_ORIGIN="https://spa.example.com")
    assert response.status_code == 204
    assert "Authorization" in response["Access-Control-Allow-Headers"]
