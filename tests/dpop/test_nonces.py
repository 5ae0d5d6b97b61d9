"""Server-issued DPoP nonces (RFC 9449 §8): policy, the use_dpop_nonce retry, rotation."""

from __future__ import annotations

import time

import pytest
from django.test import RequestFactory

from oauth_token.errors import UseDPoPNonce
from oauth_token.registry.snapshots import get_client
from oauth_token.token_endpoint import dpop

pytestmark = pytest.mark.django_db

# A long window keeps the tests away from a window boundary (it moves at midnight UTC only).
LIFETIME = 86400


@pytest.fixture
def nonces_always(settings):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "DPOP_NONCE_POLICY": "always",
        "DPOP_NONCE_LIFETIME": LIFETIME,
    }


def assert_use_nonce(response, description: str) -> str:
    assert response.status_code == 400, response.content
    assert response.json() == {"error": "use_dpop_nonce", "error_description": description}
    assert response["Access-Control-Expose-Headers"] == "DPoP-Nonce"
    nonce = response["DPoP-Nonce"]
    assert dpop.nonce_is_valid(nonce)
    return nonce


def test_nonce_flow(nonces_always, cc_request, proof_key):
    first = cc_request(proof_key.proof())
    nonce = assert_use_nonce(first, "Authorization server requires nonce in DPoP proof.")
    retry = cc_request(proof_key.proof(nonce=nonce))
    assert retry.status_code == 200, retry.content
    assert retry.json()["token_type"] == "DPoP"
    assert "DPoP-Nonce" not in retry


def test_forged_nonce(nonces_always, cc_request, proof_key):
    window = dpop.current_window()
    response = cc_request(proof_key.proof(nonce=f"{window:x}.AAAAAAAAAAAAAAAAAAAAAAAA"))
    assert_use_nonce(response, "The DPoP nonce is invalid or expired.")


@pytest.mark.parametrize("nonce", ["", "abc", 42, "zz.zz"])
def test_malformed_nonce(nonces_always, cc_request, proof_key, nonce):
    response = cc_request(proof_key.proof(nonce=nonce))
    assert_use_nonce(response, "The DPoP nonce is invalid or expired.")


def test_expired_nonce(nonces_always, cc_request, proof_key):
    old = dpop.issue_nonce(now=time.time() - 2 * LIFETIME)
    response = cc_request(proof_key.proof(nonce=old))
    fresh = assert_use_nonce(response, "The DPoP nonce is invalid or expired.")
    assert fresh != old


def test_nonce_from_the_previous_window_works_and_rotates(nonces_always, cc_request, proof_key):
    previous = dpop.issue_nonce(now=time.time() - LIFETIME)
    response = cc_request(proof_key.proof(nonce=previous))
    assert response.status_code == 200, response.content
    assert response["DPoP-Nonce"] == dpop.issue_nonce()
    assert response["DPoP-Nonce"] != previous
    assert response["Access-Control-Expose-Headers"] == "DPoP-Nonce"


def test_nonce_from_the_future_is_refused(nonces_always, cc_request, proof_key):
    future = dpop.issue_nonce(now=time.time() + LIFETIME)
    response = cc_request(proof_key.proof(nonce=future))
    assert_use_nonce(response, "The DPoP nonce is invalid or expired.")


def test_missing_nonce_does_not_use_up_the_jti(nonces_always, cc_request, proof_key):
    nonce = assert_use_nonce(
        cc_request(proof_key.proof(jti="j")), "Authorization server requires nonce in DPoP proof."
    )
    assert cc_request(proof_key.proof(jti="j", nonce=nonce)).status_code == 200


def test_nonce_policy_off_ignores_nonces(cc_request, proof_key):
    response = cc_request(proof_key.proof(nonce="whatever"))
    assert response.status_code == 200
    assert "DPoP-Nonce" not in response


def test_nonces_survive_kek_rotation(settings):
    nonce = dpop.issue_nonce()
    old_kek = settings.OAUTH_TOKEN["KEY_ENCRYPTION_KEY"]
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "KEY_ENCRYPTION_KEY": "a-new-key-encryption-key-0123456789abcdef",
        "OLD_KEY_ENCRYPTION_KEYS": [old_kek],
    }
    assert dpop.nonce_is_valid(nonce)
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "OLD_KEY_ENCRYPTION_KEYS": []}
    assert not dpop.nonce_is_valid(nonce)


def test_nonce_from_another_deployment_is_refused(settings):
    nonce = dpop.issue_nonce()
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "KEY_ENCRYPTION_KEY": "another-deployments-key-encryption-key-0123",
    }
    assert not dpop.nonce_is_valid(nonce)


def test_nonce_keyed_from_secret_key_without_kek(settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "KEY_ENCRYPTION_KEY": None}
    nonce = dpop.issue_nonce()
    assert dpop.nonce_is_valid(nonce)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-rotated-secret-key-0123456789-abcdefghijkl"
    assert dpop.nonce_is_valid(nonce)
    settings.SECRET_KEY_FALLBACKS = []
    assert not dpop.nonce_is_valid(nonce)


@pytest.mark.parametrize(
    ("policy", "client_type", "required"),
    [
        ("off", "public", False),
        ("public", "public", True),
        ("public", "confidential", False),
        ("always", "confidential", True),
    ],
)
def test_nonce_policy(settings, make_client, proof_key, policy, client_type, required):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_NONCE_POLICY": policy}
    client, _ = make_client(client_type=client_type, grant_types=["refresh_token"])
    info = get_client(client.client_id)
    assert info is not None
    http = RequestFactory().post("/oauth/token", HTTP_DPOP=proof_key.proof())
    if required:
        with pytest.raises(UseDPoPNonce):
            dpop.for_token_request(http, info)
    else:
        verified = dpop.for_token_request(http, info)
        assert verified is not None and verified.jkt == proof_key.jkt
