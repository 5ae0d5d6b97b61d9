"""The server checked against someone else's reading of RFC 9449 and RFC 7638: proofs built
and thumbprints computed by joserfc (test-only dependency), not by oauth_token's code."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from tests.kit import rsa_private_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.resource_server.views")]

TOKEN_URL = "https://auth.example.test/oauth/token"


def make_key(alg: str) -> Any:
    if alg == "ES256":
        return ECKey.generate_key("P-256")
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519")
    pem = rsa_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return RSAKey.import_key(pem)


def joserfc_proof(key: Any, alg: str, htm: str, htu: str, **claims: Any) -> str:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    body.update(claims)
    return jose_jwt.encode(header, body, key, algorithms=[alg])


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "PS256"])
def test_token_endpoint_accepts_joserfc_proofs_and_binds_their_thumbprint(
    cc_request, api_client, alg
):
    key = make_key(alg)
    response = cc_request(joserfc_proof(key, alg, "POST", TOKEN_URL))
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"
    access_token = response.json()["access_token"]

    # The issued token verifies with joserfc against the published JWKS.
    jwks = KeySet.import_key_set(api_client.get("/.well-known/jwks.json").json())
    token = jose_jwt.decode(access_token, jwks, algorithms=["RS256"])
    assert token.header["typ"] == "at+jwt"
    assert token.claims["cnf"] == {"jkt": key.thumbprint()}

    # And the resource server accepts it with a joserfc proof carrying ath.
    ath = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest())
    proof = joserfc_proof(
        key, alg, "GET", "http://testserver/api/things", ath=ath.rstrip(b"=").decode()
    )
    response = api_client.get(
        "/api/things", HTTP_AUTHORIZATION=f"DPoP {access_token}", HTTP_DPOP=proof
    )
    assert response.status_code == 200, response.content
    assert response.json()["scheme"] == "DPoP"


def test_joserfc_proof_signed_by_another_key_is_refused(cc_request):
    key, other = make_key("ES256"), make_key("ES256")
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    body = {"jti": "x1", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    response = cc_request(jose_jwt.encode(header, body, other))
    assert response.status_code == 400
    assert response.json()["error_description"] == "The DPoP proof's signature is invalid."
