"""dpop_jkt at /authorize (RFC 9449 §10): the code is bound to that key's thumbprint, and
redeeming it needs a DPoP proof by that key."""

from __future__ import annotations

import jwt
import pytest

from oauth_token.models import AuthorizationCode, RefreshTokenFamily
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK
from tests.dpop_helpers import ProofKey

pytestmark = pytest.mark.django_db

BOUND = (
    "The authorization code is bound to a DPoP key (dpop_jkt); send a DPoP proof signed with it."
)


@pytest.fixture
def redeem(token_request, first_party_spa):
    def post(code: str, verifier: str | None, proof: str | None = None):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "client_id": first_party_spa.client_id,
        }
        headers = {"HTTP_DPOP": proof} if proof is not None else {}
        return token_request(data, **headers)

    return post


@pytest.fixture
def bound_code(signing_keys, offline_api, first_party_spa, obtain_code, proof_key):
    code, verifier = obtain_code(
        first_party_spa,
        scope="openid read:things offline_access",
        audience=API,
        dpop_jkt=proof_key.jkt,
    )
    assert AuthorizationCode.objects.get().dpop_jkt == proof_key.jkt
    return code, verifier


def assert_code_unused() -> None:
    assert AuthorizationCode.objects.get().used_at is None
    assert not RefreshTokenFamily.objects.exists()


def test_redeemed_with_a_proof_by_the_named_key(bound_code, redeem, proof_key):
    response = redeem(*bound_code, proof_key.proof())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": proof_key.jkt}
    # A public client's refresh tokens follow the same key (RFC 9449 §5).
    assert RefreshTokenFamily.objects.get().dpop_jkt == proof_key.jkt


def test_without_a_proof_is_invalid_grant(bound_code, redeem):
    response = redeem(*bound_code)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": BOUND}
    assert_code_unused()


def test_with_another_key_is_invalid_grant(bound_code, redeem):
    response = redeem(*bound_code, ProofKey("ES256").proof())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": BOUND}
    assert_code_unused()


def test_refused_redemption_leaves_the_code_usable(bound_code, redeem, proof_key):
    assert redeem(*bound_code, ProofKey("EdDSA").proof()).status_code == 400
    assert redeem(*bound_code, proof_key.proof()).status_code == 200


def test_unbound_code_may_be_redeemed_with_any_proof_or_none(
    signing_keys, offline_api, first_party_spa, obtain_code, redeem
):
    code, verifier = obtain_code(first_party_spa, scope="openid", audience=API)
    assert AuthorizationCode.objects.get().dpop_jkt is None
    response = redeem(code, verifier, ProofKey("PS256").proof())
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"


def test_malformed_dpop_jkt_is_refused_at_authorize(signing_keys, first_party_spa, authorize):
    response = authorize(first_party_spa, dpop_jkt="not a thumbprint!")
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]
    assert not AuthorizationCode.objects.exists()


# --- pushed authorization requests (RFC 9449 §10.1) ---------------------------------------


def push(client, secret, proof=None, **params):
    from rest_framework.test import APIClient

    from tests.authorize.helpers import pkce_pair
    from tests.conftest import _urlencode, basic

    verifier, challenge = pkce_pair()
    data = {
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid read:things",
        "audience": API,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    headers = {"HTTP_DPOP": proof} if proof is not None else {}
    response = APIClient().generic(
        "POST",
        "/oauth/par",
        _urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
        **headers,
    )
    return response, verifier


PAR_URL = "https://auth.example.test/oauth/par"


def test_proof_at_the_par_endpoint_binds_the_code(
    signing_keys, offline_api, first_party_app, browser, token_request, proof_key
):
    from tests.authorize.helpers import assert_redirect_params, authorize_url

    client, secret = first_party_app
    pushed, verifier = push(client, secret, proof_key.proof(htu=PAR_URL))
    assert pushed.status_code == 201, pushed.content
    response = browser.get(
        authorize_url(client_id=client.client_id, request_uri=pushed.json()["request_uri"])
    )
    code = assert_redirect_params(response)["code"]
    assert AuthorizationCode.objects.get().dpop_jkt == proof_key.jkt
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    refused = token_request(data, auth=(client.client_id, secret))
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_grant", "error_description": BOUND}
    accepted = token_request(data, auth=(client.client_id, secret), HTTP_DPOP=proof_key.proof())
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["token_type"] == "DPoP"


def test_par_proof_and_dpop_jkt_must_name_the_same_key(
    signing_keys, offline_api, first_party_app, proof_key
):
    client, secret = first_party_app
    response, _ = push(client, secret, proof_key.proof(htu=PAR_URL), dpop_jkt=ProofKey("ES256").jkt)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "dpop_jkt does not match the DPoP proof's key.",
    }


def test_invalid_proof_at_the_par_endpoint(signing_keys, offline_api, first_party_app, proof_key):
    client, secret = first_party_app
    response, _ = push(client, secret, proof_key.proof())  # htu of the token endpoint
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof's htu does not match the request URL.",
    }


def test_non_ascii_dpop_jkt_at_par_is_refused(
    signing_keys, offline_api, first_party_app, proof_key
):
    client, secret = first_party_app
    response, _ = push(client, secret, proof_key.proof(htu=PAR_URL), dpop_jkt="jkt-ä")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"
