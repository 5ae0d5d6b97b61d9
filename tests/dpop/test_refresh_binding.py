"""DPoP-bound refresh tokens (RFC 9449 §5): which families issuance binds to the key of the
request's proof, how the refresh grant holds a bound family to that key, and the same rules
over HTTP at /oauth/token.

Proof validation belongs to token_endpoint/dpop.py; by the time the grant runs,
``context.dpop_jkt`` is the thumbprint of a validated proof (or None), so the grant-level tests
drive it with such contexts; the HTTP tests send real proofs.
"""

from __future__ import annotations

import jwt
import pytest
from django.db import transaction

from oauth_token.errors import InvalidGrant
from oauth_token.grants.refresh_token import RefreshTokenGrant
from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.token_endpoint.issuance import issue
from tests.dpop_helpers import ProofKey
from tests.refresh.fixtures import token_context

pytestmark = pytest.mark.django_db

KEY_A = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
KEY_B = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- issuance: which families are bound -----------------------------------------------


def test_public_client_with_dpop_proof_gets_a_bound_family(
    offline_api, public_rt_client, start_family
):
    start_family(public_rt_client, dpop_jkt=KEY_A)
    assert RefreshTokenFamily.objects.get().dpop_jkt == KEY_A


def test_public_client_without_proof_gets_an_unbound_family(
    offline_api, public_rt_client, start_family
):
    start_family(public_rt_client)
    assert RefreshTokenFamily.objects.get().dpop_jkt is None


def test_confidential_client_family_is_not_bound_by_default(offline_api, rt_client, start_family):
    client, _ = rt_client
    start_family(client, dpop_jkt=KEY_A)
    assert RefreshTokenFamily.objects.get().dpop_jkt is None


def test_confidential_client_family_is_bound_when_settings_say_so(
    settings, offline_api, rt_client, start_family
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS": True}
    client, _ = rt_client
    start_family(client, dpop_jkt=KEY_A)
    assert RefreshTokenFamily.objects.get().dpop_jkt == KEY_A


# --- the refresh grant: a bound family needs the same key ------------------------------


@pytest.fixture
def bound(offline_api, public_rt_client, start_family):
    issued = start_family(public_rt_client, dpop_jkt=KEY_A)
    assert RefreshTokenFamily.objects.get().dpop_jkt == KEY_A
    return public_rt_client, issued.refresh_token


def refresh_with(client, value, jkt):
    context = token_context(
        client, grant_type="refresh_token", params={"refresh_token": value}, dpop_jkt=jkt
    )
    with transaction.atomic():
        result = RefreshTokenGrant().validate(context)
        return result, issue(result, context)


@pytest.mark.parametrize("jkt", [None, KEY_B], ids=["no-proof", "other-key"])
def test_bound_family_needs_a_proof_by_the_same_key(bound, jkt):
    client, value = bound
    with pytest.raises(InvalidGrant, match="bound to a DPoP key"):
        refresh_with(client, value, jkt)
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_at is None


def test_bound_family_refreshes_with_the_same_key_and_stays_bound(bound):
    client, value = bound
    result, issued = refresh_with(client, value, KEY_A)
    assert result.continued_family is not None
    assert result.continued_family.family == RefreshTokenFamily.objects.get()
    assert issued.token_type == "DPoP"
    assert issued.access_token.claims["cnf"] == {"jkt": KEY_A}
    successor = issued.refresh_token
    assert successor and successor != value

    with pytest.raises(InvalidGrant, match="bound to a DPoP key"):
        refresh_with(client, successor, None)
    _, again = refresh_with(client, successor, KEY_A)
    assert again.refresh_token


def test_unbound_family_accepts_requests_with_or_without_proof(
    offline_api, public_rt_client, start_family
):
    value = start_family(public_rt_client).refresh_token
    _, issued = refresh_with(public_rt_client, value, KEY_B)
    assert issued.token_type == "DPoP"
    _, issued = refresh_with(public_rt_client, issued.refresh_token, None)
    assert issued.token_type == "Bearer"
    assert RefreshTokenFamily.objects.get().dpop_jkt is None


# --- over HTTP at /oauth/token ----------------------------------------------------------


@pytest.fixture
def refresh_public(token_request, public_rt_client):
    def post(refresh_token: str, proof: str | None = None):
        headers = {"HTTP_DPOP": proof} if proof is not None else {}
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": public_rt_client.client_id,
        }
        return token_request(data, **headers)

    return post


@pytest.fixture
def bound_family(offline_api, public_rt_client, start_family, proof_key):
    """Tokens issued to a public client whose request carried a proof by ``proof_key``."""
    issued = start_family(public_rt_client, dpop_jkt=proof_key.jkt)
    assert issued.token_type == "DPoP"
    assert RefreshTokenFamily.objects.get().dpop_jkt == proof_key.jkt
    return issued


def assert_unchanged(refresh_token: str) -> None:
    assert RefreshToken.objects.count() == 1
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_at is None


def test_refresh_with_a_proof_by_the_bound_key(bound_family, refresh_public, proof_key):
    response = refresh_public(bound_family.refresh_token, proof_key.proof())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": proof_key.jkt}
    # The successor is bound too: the chain continues only with the same key.
    response = refresh_public(body["refresh_token"], ProofKey().proof())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    again = refresh_public(body["refresh_token"], proof_key.proof())
    assert again.status_code == 200, again.content


def test_refresh_without_a_proof_is_invalid_grant(bound_family, refresh_public):
    response = refresh_public(bound_family.refresh_token)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": (
            "The refresh token is bound to a DPoP key; send a DPoP proof signed with it."
        ),
    }
    assert_unchanged(bound_family.refresh_token)


def test_refresh_with_another_key_is_invalid_grant(bound_family, refresh_public):
    response = refresh_public(bound_family.refresh_token, ProofKey("EdDSA").proof())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert_unchanged(bound_family.refresh_token)


def test_refresh_with_an_invalid_proof_is_invalid_dpop_proof(
    bound_family, refresh_public, proof_key
):
    response = refresh_public(bound_family.refresh_token, proof_key.proof(htm="GET"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"
    assert_unchanged(bound_family.refresh_token)


def test_confidential_clients_refresh_tokens_are_not_bound(
    offline_api, rt_client, start_family, refresh, proof_key
):
    client, _ = rt_client
    issued = start_family(client, dpop_jkt=proof_key.jkt)
    assert issued.token_type == "DPoP"
    assert RefreshTokenFamily.objects.get().dpop_jkt is None
    response = refresh(issued.refresh_token)
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"


def test_confidential_binding_when_configured(
    settings, offline_api, rt_client, start_family, refresh, token_request, proof_key
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS": True}
    client, secret = rt_client
    issued = start_family(client, dpop_jkt=proof_key.jkt)
    assert RefreshTokenFamily.objects.get().dpop_jkt == proof_key.jkt
    response = refresh(issued.refresh_token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    response = token_request(
        {"grant_type": "refresh_token", "refresh_token": issued.refresh_token},
        auth=(client.client_id, secret),
        HTTP_DPOP=proof_key.proof(),
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"


def test_nonce_policy_for_public_clients_applies_to_refresh(
    settings, bound_family, refresh_public, proof_key
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_NONCE_POLICY": "public"}
    first = refresh_public(bound_family.refresh_token, proof_key.proof())
    assert first.status_code == 400
    assert first.json()["error"] == "use_dpop_nonce"
    assert_unchanged(bound_family.refresh_token)
    retry = refresh_public(bound_family.refresh_token, proof_key.proof(nonce=first["DPoP-Nonce"]))
    assert retry.status_code == 200, retry.content
    assert retry.json()["token_type"] == "DPoP"
