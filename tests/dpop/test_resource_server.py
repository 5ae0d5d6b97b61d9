"""DPoP-bound tokens at a resource server (RFC 9449 §7): the DPoP scheme, a proof with ath
and the request's htm/htu, from the key in cnf.jkt."""

from __future__ import annotations

import pytest

from tests.dpop_helpers import ProofKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.resource_server.views")]

URL = "http://testserver/api/things"


def call(api_client, token, proof=None, path="/api/things", scheme="DPoP", method="get", **kw):
    if proof is not None:
        kw["HTTP_DPOP"] = proof
    return getattr(api_client, method)(path, HTTP_AUTHORIZATION=f"{scheme} {token}", **kw)


def assert_refused(response, error: str, description: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json() == {"error": error, "error_description": description}
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith(f'DPoP realm="oauth", error="{error}"')
    assert 'algs="ES256 ES384 ES512 RS256 PS256 EdDSA Ed25519"' in challenge


def test_bound_token_with_a_valid_proof(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=dpop_token)
    response = call(api_client, dpop_token, proof)
    assert response.status_code == 200, response.content
    assert response.json()["scheme"] == "DPoP"


def test_dpop_scheme_is_case_insensitive(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=dpop_token)
    assert call(api_client, dpop_token, proof, scheme="dpop").status_code == 200


def test_query_string_is_not_part_of_htu(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=dpop_token)
    assert call(api_client, dpop_token, proof, path="/api/things?page=2").status_code == 200


def test_bound_token_as_bearer_is_refused(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=dpop_token)
    response = call(api_client, dpop_token, proof, scheme="Bearer")
    assert response.status_code == 401
    assert response.json()["error_description"] == (
        "This token is DPoP-bound; use the DPoP scheme with a proof."
    )


def test_unbound_token_with_the_dpop_scheme_is_refused(api_client, m2m_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=m2m_token)
    response = call(api_client, m2m_token, proof)
    assert_refused(response, "invalid_token", "The token is not DPoP-bound; use the Bearer scheme.")


def test_missing_proof(api_client, dpop_token):
    response = call(api_client, dpop_token)
    assert_refused(response, "invalid_dpop_proof", "A DPoP proof is required with the DPoP scheme.")


def test_proof_from_another_key(api_client, dpop_token):
    proof = ProofKey("ES256").proof("GET", URL, access_token=dpop_token)
    response = call(api_client, dpop_token, proof)
    assert_refused(
        response,
        "invalid_dpop_proof",
        "The DPoP proof's key is not the one the token is bound to.",
    )


def test_proof_without_ath(api_client, dpop_token, proof_key):
    response = call(api_client, dpop_token, proof_key.proof("GET", URL))
    assert_refused(response, "invalid_dpop_proof", "The DPoP proof lacks the ath claim.")


def test_proof_for_another_token(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=dpop_token + "x")
    response = call(api_client, dpop_token, proof)
    assert_refused(
        response, "invalid_dpop_proof", "The DPoP proof's ath does not match the access token."
    )


def test_proof_for_another_method(api_client, dpop_token, proof_key):
    proof = proof_key.proof("POST", URL, access_token=dpop_token)
    response = call(api_client, dpop_token, proof)
    assert_refused(
        response, "invalid_dpop_proof", "The DPoP proof's htm does not match the request method."
    )


def test_proof_for_another_url(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", "http://testserver/api/factory", access_token=dpop_token)
    response = call(api_client, dpop_token, proof)
    assert_refused(
        response, "invalid_dpop_proof", "The DPoP proof's htu does not match the request URL."
    )


def test_token_endpoint_proof_is_not_accepted_here(api_client, dpop_token, proof_key):
    proof = proof_key.proof(access_token=dpop_token)
    response = call(api_client, dpop_token, proof)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_dpop_proof"


def test_replayed_proof(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, access_token=dpop_token)
    assert call(api_client, dpop_token, proof).status_code == 200
    response = call(api_client, dpop_token, proof)
    assert_refused(response, "invalid_dpop_proof", "The DPoP proof's jti has already been used.")


def test_htu_follows_django_proxy_settings(api_client, dpop_token, proof_key, settings):
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = {"HTTP_X_FORWARDED_HOST": "api.example.com", "HTTP_X_FORWARDED_PROTO": "https"}
    inner = proof_key.proof("GET", URL, access_token=dpop_token)
    response = call(api_client, dpop_token, inner, **proxied)
    assert response.status_code == 401
    outer = proof_key.proof("GET", "https://api.example.com/api/things", access_token=dpop_token)
    assert call(api_client, dpop_token, outer, **proxied).status_code == 200


def test_forwarded_headers_are_ignored_without_proxy_settings(api_client, dpop_token, proof_key):
    proxied = {"HTTP_X_FORWARDED_HOST": "api.example.com", "HTTP_X_FORWARDED_PROTO": "https"}
    outer = proof_key.proof("GET", "https://api.example.com/api/things", access_token=dpop_token)
    assert call(api_client, dpop_token, outer, **proxied).status_code == 401


def test_insufficient_scope_challenge_uses_the_dpop_scheme(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", "http://testserver/api/factory", access_token=dpop_token)
    response = call(api_client, dpop_token, proof, path="/api/factory")
    assert response.status_code == 403
    assert response["WWW-Authenticate"].startswith('DPoP realm="oauth", error="insufficient_scope"')


def test_replay_cache_outage_is_503_with_retry_after(api_client, dpop_token, proof_key, settings):
    """Fail closed: a proof whose jti cannot be checked is not accepted (real Redis client
    against a port where nothing listens)."""
    settings.CACHES = {
        **settings.CACHES,
        "broken": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        },
    }
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CACHE_ALIAS": "broken"}
    proof = proof_key.proof("GET", URL, access_token=dpop_token)
    response = call(api_client, dpop_token, proof)
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert response["Retry-After"] == "2"


def test_non_ascii_ath_is_a_mismatch(api_client, dpop_token, proof_key):
    proof = proof_key.proof("GET", URL, ath="äth")
    response = call(api_client, dpop_token, proof)
    assert_refused(
        response, "invalid_dpop_proof", "The DPoP proof's ath does not match the access token."
    )
