from __future__ import annotations

import jwt
import pytest

from oauth_token import keyring

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
