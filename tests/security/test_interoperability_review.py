"""Interoperability defects found by running certified client libraries (openid-client 6,
oauth4webapi 3, jose 6) against the example project (issue 12): discovery metadata that
RFC 8414 §2 requires, RFC 9864's ``Ed25519`` algorithm name, the challenge of a failed
client authentication (RFC 6749 §5.2), and only advertising what is implemented."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from oauth_token.registry import provisioning
from tests import kit

pytestmark = pytest.mark.django_db


def _ed25519_signer() -> jwt.PyJWS:
    signer = jwt.PyJWS()
    signer.register_algorithm("Ed25519", OKPAlgorithm())
    return signer


def _ed25519_key(alg: str | None = "EdDSA") -> tuple[Any, dict[str, Any]]:
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": "ed-key", "use": "sig"})
    if alg:
        jwk["alg"] = alg
    return private, jwk


def _metadata(api_client: Any) -> dict[str, Any]:
    return api_client.get("/.well-known/oauth-authorization-server").json()


def test_discovery_lists_signing_algorithms_for_jwt_auth_at_revocation_and_introspection(
    api_client, signing_keys
):
    metadata = _metadata(api_client)
    for endpoint in ("revocation", "introspection"):
        methods = metadata[f"{endpoint}_endpoint_auth_methods_supported"]
        assert "private_key_jwt" in methods and "client_secret_jwt" in methods
        algs = metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert algs == metadata["token_endpoint_auth_signing_alg_values_supported"]
        assert "none" not in algs


def test_ed25519_is_advertised_wherever_eddsa_is(api_client, signing_keys):
    metadata = _metadata(api_client)
    for member in (
        "token_endpoint_auth_signing_alg_values_supported",
        "dpop_signing_alg_values_supported",
    ):
        assert "EdDSA" in metadata[member] and "Ed25519" in metadata[member]


@pytest.mark.parametrize("declared", ["EdDSA", "Ed25519", None])
def test_client_assertion_signed_with_alg_ed25519_authenticates(
    signing_keys, api, token_request, declared
):
    private, jwk = _ed25519_key(declared)
    created = provisioning.create_client(
        name="Modern client",
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks={"keys": [jwk]},
    )
    provisioning.grant(created.client, api, ["read:things"])
    claims = json.dumps(kit.assertion_claims(created.client.client_id)).encode()
    assertion = _ed25519_signer().encode(claims, private, "Ed25519", headers={"kid": "ed-key"})
    response = token_request(kit.assertion_form(assertion))
    assert response.status_code == 200, response.content


def test_dpop_proof_signed_with_alg_ed25519_binds_the_token(
    signing_keys, m2m_client, token_request
):
    private, jwk = _ed25519_key(None)
    claims = {
        "jti": secrets.token_urlsafe(12),
        "htm": "POST",
        "htu": kit.TOKEN_ENDPOINT,
        "iat": int(time.time()),
    }
    proof = _ed25519_signer().encode(
        json.dumps(claims).encode(), private, "Ed25519", headers={"typ": "dpop+jwt", "jwk": jwk}
    )
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        auth=(client.client_id, secret),
        HTTP_DPOP=proof,
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"


def test_failed_basic_authentication_is_challenged_with_basic(
    m2m_client, token_request, signing_keys
):
    client, _ = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        auth=(client.client_id, "wrong"),
    )
    kit.assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_failed_authentication_in_the_body_gets_no_challenge(
    make_client, api, token_request, signing_keys
):
    """RFC 6749 §5.2: the challenge matches the scheme the client used in the Authorization
    header; a client that used none is not told to use Bearer, a resource-server scheme."""
    post_client, _ = make_client(name="Post", auth_method="client_secret_post")
    key_client, key = kit.pkjwt_client(api)
    attempts = [
        {"client_id": post_client.client_id, "client_secret": "wrong"},
        kit.assertion_form(kit.private_key_assertion(key_client.client_id, key, sub="other")),
    ]
    for form in attempts:
        response = token_request(
            {"grant_type": "client_credentials", "audience": kit.AUDIENCE, **form}
        )
        kit.assert_oauth_error(response, 401, "invalid_client")
        assert "WWW-Authenticate" not in response


def test_discovery_advertises_neither_select_account_nor_the_claims_parameter(
    api_client, signing_keys
):
    metadata = api_client.get("/.well-known/openid-configuration").json()
    assert "select_account" not in metadata["prompt_values_supported"]
    assert metadata["claims_parameter_supported"] is False
