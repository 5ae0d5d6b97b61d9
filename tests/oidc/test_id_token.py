"""ID tokens (OIDC Core §2, §3.1.3.6, §5.4) and discovery of the authorization endpoint."""

from __future__ import annotations

import time

import jwt
import pytest

from oauth_token.core import jose
from oauth_token.registry import keyring
from tests.authorize.helpers import API, CALLBACK, ISSUER, oauth_settings_with

pytestmark = pytest.mark.django_db


def exchange(token_request, client, secret, code, verifier):
    return token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client.client_id, secret),
    )


def verify_id_token(token: str, client_id: str) -> tuple[dict, dict]:
    header = jwt.get_unverified_header(token)
    alg, key = keyring.verification_key(header["kid"])
    claims = jwt.decode(token, key, algorithms=[alg], audience=client_id, issuer=ISSUER)
    return header, claims


@pytest.fixture
def tokens(signing_keys, first_party_app, obtain_code, token_request):
    client, secret = first_party_app

    def get(**params):
        code, verifier = obtain_code(client, **params)
        response = exchange(token_request, client, secret, code, verifier)
        assert response.status_code == 200, response.content
        return response.json()

    return get


def test_id_token_claims(tokens, first_party_app, user, signing_keys):
    client, _ = first_party_app
    before = int(time.time())
    body = tokens(scope="openid", nonce="n-0S6_WzA2Mj")
    header, claims = verify_id_token(body["id_token"], client.client_id)
    assert header["kid"] == signing_keys.current.kid
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert claims["iss"] == ISSUER
    assert claims["sub"] == str(user.pk)
    assert claims["aud"] == client.client_id
    assert claims["azp"] == client.client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert before - 5 <= claims["iat"] <= int(time.time()) + 5
    assert claims["exp"] - claims["iat"] == 36000
    assert abs(claims["auth_time"] - before) < 60
    assert claims["at_hash"] == jose.token_hash(body["access_token"], "RS256")
    assert set(claims) == {
        "iss",
        "sub",
        "aud",
        "azp",
        "nonce",
        "iat",
        "exp",
        "auth_time",
        "at_hash",
        "sid",  # OIDC Back-Channel Logout 1.0 §2.1 (tests/logout/test_sessions.py)
    }


def test_sub_matches_access_token_and_is_stable(tokens, first_party_app, user):
    client, _ = first_party_app
    first = tokens(scope="openid")
    user.username = "renamed"
    user.email = "new@example.com"
    user.save()
    second = tokens(scope="openid")
    subs = {verify_id_token(b["id_token"], client.client_id)[1]["sub"] for b in (first, second)}
    access_sub = jwt.decode(first["access_token"], options={"verify_signature": False})["sub"]
    assert subs == {access_sub} == {str(user.pk)}


def test_no_nonce_claim_without_nonce(tokens, first_party_app):
    client, _ = first_party_app
    _, claims = verify_id_token(tokens(scope="openid")["id_token"], client.client_id)
    assert "nonce" not in claims


def test_profile_and_email_claims(tokens, first_party_app, user):
    client, _ = first_party_app
    _, claims = verify_id_token(tokens(scope="openid profile email")["id_token"], client.client_id)
    assert claims["name"] == "Alice Liddell"
    assert claims["given_name"] == "Alice"
    assert claims["family_name"] == "Liddell"
    assert claims["preferred_username"] == "alice"
    assert isinstance(claims["updated_at"], int)
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is False


def test_claims_follow_scopes(tokens, first_party_app):
    client, _ = first_party_app
    _, claims = verify_id_token(tokens(scope="openid email")["id_token"], client.client_id)
    assert "email" in claims and "name" not in claims and "preferred_username" not in claims


def test_no_id_token_without_openid(tokens, offline_api):
    body = tokens(scope="read:things", audience=API)
    assert "id_token" not in body
    assert body["scope"] == "read:things"


def custom_claims(user, scopes):
    claims = {"sub": "attacker-chosen", "aud": "elsewhere"}
    if "profile" in scopes:
        claims["nickname"] = f"nick-{user.username}"
    return claims


def test_claims_function_from_settings(tokens, first_party_app, settings, user):
    settings.OAUTH_TOKEN = oauth_settings_with(CLAIMS_FUNCTION=f"{__name__}.custom_claims")
    client, _ = first_party_app
    _, claims = verify_id_token(tokens(scope="openid profile")["id_token"], client.client_id)
    assert claims["nickname"] == "nick-alice"
    # Registered claims stay the server's.
    assert claims["sub"] == str(user.pk) and claims["aud"] == client.client_id


def test_id_token_algorithm_setting(tokens, first_party_app, settings):
    es256 = keyring.rotate("ES256")
    settings.OAUTH_TOKEN = oauth_settings_with(ID_TOKEN_SIGNING_ALGORITHM="ES256")
    client, _ = first_party_app
    body = tokens(scope="openid")
    header, claims = verify_id_token(body["id_token"], client.client_id)
    assert header["alg"] == "ES256" and header["kid"] == es256.current.kid
    assert claims["at_hash"] == jose.token_hash(body["access_token"], "ES256")


def test_access_token_names_userinfo_when_openid(tokens, offline_api):
    body = tokens(scope="openid read:things", audience=API)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == [API, "https://auth.example.test/userinfo"]


# --- discovery -------------------------------------------------------------------------------


def test_discovery_lists_the_authorization_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["authorization_endpoint"] == "https://auth.example.test/authorize"
    assert metadata["userinfo_endpoint"] == "https://auth.example.test/userinfo"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["response_modes_supported"] == ["query", "form_post"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "offline_access"} <= set(metadata["scopes_supported"])
    assert {"sub", "name", "email", "email_verified"} <= set(metadata["claims_supported"])
    assert "authorization_code" in metadata["grant_types_supported"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["subject_types_supported"] == ["public"]
    rfc8414 = client.get("/.well-known/oauth-authorization-server").json()
    assert rfc8414["authorization_endpoint"] == metadata["authorization_endpoint"]


def test_discovery_lists_plain_only_when_allowed(client, settings):
    settings.OAUTH_TOKEN = oauth_settings_with(PKCE_ALLOW_PLAIN=True)
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["code_challenge_methods_supported"] == ["S256", "plain"]
