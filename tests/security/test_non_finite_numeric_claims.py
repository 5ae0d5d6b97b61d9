"""Numbers no JSON number should be (issue 12 item 8): ``Infinity``, ``NaN``, ``1e400`` (which
Python reads as infinity) and a 400-digit integer, signed correctly, in every numeric claim of
every JWT a client can send: DPoP proofs at the token endpoint and at a resource server,
client assertions, jwt-bearer assertions. Each is a precise JSON error, never a 500 or HTML:
``core/jose.py`` refuses them when it parses any token, before a caller compares them."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from oauth_token.registry import provisioning
from tests import kit
from tests.dpop_helpers import ath

pytestmark = pytest.mark.django_db

RAW_NUMBERS = ["Infinity", "-Infinity", "NaN", "1e400", "-1e400", "1" + "0" * 400, "1e300"]
RS_URL = "http://testserver/api/things"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
IDP = "https://idp.example.org/"


def signed(claims: dict[str, Any], raw: dict[str, str], key: Any, alg: str, **header: Any) -> str:
    """A JWS over ``claims`` with the members in ``raw`` spliced in as literal JSON text (no
    JSON library writes ``1e400``), signed for real so only the number is wrong."""
    text = json.dumps(claims, separators=(",", ":"))[:-1]
    text += "".join(f',"{name}":{literal}' for name, literal in raw.items()) + "}"
    return jwt.PyJWS().encode(text.encode(), key, alg, headers=header)


class ProofKey:
    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)

    def proof(self, htm: str, htu: str, raw: dict[str, str], **claims: Any) -> str:
        body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, **claims}
        if "iat" not in raw:
            body["iat"] = int(time.time())
        return signed(body, raw, self.private, "ES256", typ="dpop+jwt", jwk=self.jwk)


@pytest.fixture
def machine(signing_keys, api) -> tuple[str, str]:
    client, secret = kit.secret_client(api)
    return client.client_id, secret


@pytest.mark.parametrize("literal", RAW_NUMBERS)
@pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
def test_dpop_proof_with_a_non_finite_number_at_the_token_endpoint_is_a_json_error(
    machine, token_request, unchanged, claim, literal
):
    unchanged()
    proof = ProofKey().proof("POST", kit.TOKEN_ENDPOINT, {claim: literal})
    response = token_request(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        auth=machine,
        HTTP_DPOP=proof,
    )
    kit.assert_oauth_error(response, 400, "invalid_dpop_proof")


@pytest.mark.urls("tests.resource_server.views")
@pytest.mark.parametrize("literal", RAW_NUMBERS)
def test_dpop_proof_with_a_non_finite_iat_at_a_resource_server_is_a_json_401(
    machine, token_request, api_client, literal
):
    key = ProofKey()
    issued = token_request(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        auth=machine,
        HTTP_DPOP=key.proof("POST", kit.TOKEN_ENDPOINT, {}),
    )
    token = issued.json()["access_token"]
    proof = key.proof("GET", RS_URL, {"iat": literal}, ath=ath(token))
    response = api_client.get("/api/things", HTTP_AUTHORIZATION=f"DPoP {token}", HTTP_DPOP=proof)
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("literal", RAW_NUMBERS)
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_client_assertion_with_a_non_finite_number_is_invalid_client(
    signing_keys, api, token_request, unchanged, claim, literal
):
    client, key = kit.pkjwt_client(api)
    unchanged()
    claims = kit.assertion_claims(client.client_id, **{claim: None})
    assertion = signed(claims, {claim: literal}, key.private, "RS256", kid=key.kid)
    response = token_request(kit.assertion_form(assertion))
    kit.assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("literal", RAW_NUMBERS)
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_jwt_bearer_assertion_with_a_non_finite_number_is_invalid_grant(
    signing_keys, api, token_request, django_user_model, unchanged, claim, literal
):
    django_user_model.objects.create_user("alice", password="pw")
    idp = kit.rsa_keypair("idp")
    created = provisioning.create_client(
        name="Integration",
        grant_types=[GRANT_JWT_BEARER],
        trusted_issuers=[{"issuer": IDP, "jwks": {"keys": [idp.jwk]}}],
    )
    provisioning.grant(created.client, api, ["read:things"])
    unchanged()
    claims = kit.assertion_claims("x", iss=IDP, sub="alice", **{claim: None})
    assertion = signed(claims, {claim: literal}, idp.private, "RS256", kid=idp.kid)
    response = token_request(
        {"grant_type": GRANT_JWT_BEARER, "assertion": assertion, "audience": kit.AUDIENCE},
        auth=(created.client.client_id, created.secret),
    )
    kit.assert_oauth_error(response, 400, "invalid_grant")
