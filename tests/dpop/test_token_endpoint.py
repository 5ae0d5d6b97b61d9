"""DPoP proofs at the token endpoint (RFC 9449 §4.3, §5): one case per rejection rule."""

from __future__ import annotations

import time

import jwt
import pytest

from oauth_token.core import jose
from tests.dpop_helpers import TOKEN_URL, ProofKey, unsigned

pytestmark = pytest.mark.django_db


def assert_invalid_proof(response, description: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json() == {"error": "invalid_dpop_proof", "error_description": description}
    assert response["Cache-Control"] == "no-store"


# --- a valid proof ---------------------------------------------------------------------------


def test_valid_proof_binds_the_access_token(cc_request, proof_key):
    response = cc_request(proof_key.proof())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": proof_key.jkt}
    assert "DPoP-Nonce" not in response


def test_without_a_proof_the_token_is_bearer(cc_request):
    response = cc_request()
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert "cnf" not in claims


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"])
def test_every_advertised_algorithm_is_accepted(cc_request, alg):
    key = ProofKey(alg)
    response = cc_request(key.proof())
    assert response.status_code == 200, response.content
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["cnf"]["jkt"] == key.jkt


def test_htu_is_compared_after_normalisation(cc_request, proof_key):
    htu = "HTTPS://Auth.Example.TEST:443/oauth/%74oken?ignored=1#frag"
    assert cc_request(proof_key.proof(htu=htu)).status_code == 200


def test_htu_comes_from_the_issuer_not_the_host_header(cc_request, proof_key):
    response = cc_request(proof_key.proof(), HTTP_HOST="evil.example.test")
    assert response.status_code == 200, response.content
    response = cc_request(
        proof_key.proof(htu="http://evil.example.test/oauth/token"), HTTP_HOST="evil.example.test"
    )
    assert_invalid_proof(response, "The DPoP proof's htu does not match the request URL.")


# --- client policy -----------------------------------------------------------------------------


def test_client_requiring_dpop_without_proof_is_invalid_request(
    signing_keys, make_client, api, token_request
):
    from oauth_token.registry import provisioning

    client, secret = make_client(name="Needs DPoP", require_dpop=True)
    provisioning.grant(client, api, ["read:things"])
    data = {"grant_type": "client_credentials", "audience": api.identifier}
    response = token_request(data, auth=(client.client_id, secret))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "This client must send a DPoP proof.",
    }
    key = ProofKey()
    response = token_request(data, auth=(client.client_id, secret), HTTP_DPOP=key.proof())
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"


def test_client_authentication_comes_before_the_proof(cc_request, m2m_client, token_request):
    client, _ = m2m_client
    response = token_request(
        {"grant_type": "client_credentials"},
        auth=(client.client_id, "wrong"),
        HTTP_DPOP="garbage",
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# --- rejection rules, one each -------------------------------------------------------------------


def test_two_dpop_headers(cc_request, proof_key):
    response = cc_request(f"{proof_key.proof()}, {proof_key.proof()}")
    assert_invalid_proof(response, "Only one DPoP header is allowed.")


def test_empty_header(cc_request):
    assert_invalid_proof(cc_request(" "), "The DPoP proof is empty or too large.")


def test_oversized_header(cc_request, proof_key):
    response = cc_request(proof_key.proof(padding="x" * 9000))
    assert_invalid_proof(response, "The DPoP proof is empty or too large.")


@pytest.mark.parametrize("value", ["not-a-jws", "a.b", "a.b.c.d.e", "!!!.e30.sig"])
def test_not_a_compact_jws(cc_request, value):
    assert_invalid_proof(cc_request(value), "The DPoP proof is not a well-formed compact JWS.")


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt"])
def test_wrong_typ(cc_request, proof_key, typ):
    response = cc_request(proof_key.proof(header={"typ": typ}))
    assert_invalid_proof(response, "The DPoP proof's typ must be dpop+jwt.")


def test_alg_none(cc_request, proof_key):
    token = unsigned(
        {"typ": "dpop+jwt", "alg": "none", "jwk": proof_key.jwk},
        {"jti": "j1", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())},
    )
    assert_invalid_proof(cc_request(token), "The DPoP proof must be signed (alg none is refused).")


def test_hmac_alg(cc_request, proof_key):
    token = proof_key.proof(signer="s" * 32, alg="HS256")
    response = cc_request(token)
    assert_invalid_proof(response, "The DPoP proof must use an asymmetric algorithm, not HMAC.")


def test_alg_outside_the_allowed_list(cc_request):
    response = cc_request(ProofKey("RS512").proof())
    assert_invalid_proof(response, "The DPoP proof's alg is not supported.")


def test_allowed_list_is_configurable(cc_request, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_SIGNING_ALGORITHMS": ["EdDSA"]}
    assert_invalid_proof(
        cc_request(ProofKey("ES256").proof()), "The DPoP proof's alg is not supported."
    )
    assert cc_request(ProofKey("EdDSA").proof()).status_code == 200


def test_jwk_missing(cc_request, proof_key):
    response = cc_request(proof_key.proof(header={"jwk": None}))
    assert_invalid_proof(response, "The DPoP proof has no jwk header.")


def test_jwk_not_an_object(cc_request, proof_key):
    response = cc_request(proof_key.proof(header={"jwk": "abc"}))
    assert_invalid_proof(response, "The DPoP proof has no jwk header.")


def test_jwk_with_private_key(cc_request, proof_key):
    response = cc_request(proof_key.proof(header={"jwk": proof_key.private_jwk}))
    assert_invalid_proof(response, "The DPoP proof's jwk must not contain private key material.")


def test_jwk_of_the_wrong_type_for_alg(cc_request, proof_key):
    rsa_key = ProofKey("RS256")
    response = cc_request(rsa_key.proof(header={"jwk": proof_key.jwk}))
    assert_invalid_proof(response, "The DPoP proof's jwk does not match its alg.")


def test_symmetric_jwk(cc_request, proof_key):
    response = cc_request(proof_key.proof(header={"jwk": {"kty": "oct", "k": "c2VjcmV0"}}))
    assert_invalid_proof(response, "The DPoP proof's jwk must not contain private key material.")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_short_rsa_key(cc_request):
    response = cc_request(ProofKey("RS256", rsa_bits=1024).proof())
    assert_invalid_proof(response, "The DPoP proof's RSA key is shorter than 2048 bits.")


def test_signature_by_another_key(cc_request, proof_key):
    other = ProofKey("ES256")
    response = cc_request(proof_key.proof(signer=other.private))
    assert_invalid_proof(response, "The DPoP proof's signature is invalid.")


def test_tampered_payload(cc_request, proof_key):
    head, _, sig = proof_key.proof().split(".")
    payload = proof_key.proof(htu="https://auth.example.test/oauth/token/").split(".")[1]
    response = cc_request(f"{head}.{payload}.{sig}")
    assert_invalid_proof(response, "The DPoP proof's signature is invalid.")


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_required_claim_missing(cc_request, proof_key, claim):
    response = cc_request(proof_key.proof(drop=(claim,)))
    assert_invalid_proof(response, f"The DPoP proof lacks the {claim} claim.")


@pytest.mark.parametrize("jti", ["", 42, "j" * 257])
def test_bad_jti(cc_request, proof_key, jti):
    response = cc_request(proof_key.proof(jti=jti))
    assert_invalid_proof(response, "The DPoP proof's jti must be a non-empty string.")


@pytest.mark.parametrize("iat", ["now", True, None])
def test_bad_iat(cc_request, proof_key, iat):
    response = cc_request(proof_key.proof(iat=iat))
    assert_invalid_proof(response, "The DPoP proof's iat must be a number.")


@pytest.mark.parametrize("htm", ["GET", "post", None])
def test_htm_mismatch(cc_request, proof_key, htm):
    response = cc_request(proof_key.proof(htm=htm))
    assert_invalid_proof(response, "The DPoP proof's htm does not match the request method.")


@pytest.mark.parametrize(
    "htu",
    [
        "https://auth.example.test/oauth/revoke",
        "http://auth.example.test/oauth/token",
        "https://auth.example.test:8443/oauth/token",
        "https://other.example.test/oauth/token",
        "/oauth/token",
        "https://auth.example.test/oauth/token/..%2F",
        42,
    ],
)
def test_htu_mismatch(cc_request, proof_key, htu):
    response = cc_request(proof_key.proof(htu=htu))
    assert_invalid_proof(response, "The DPoP proof's htu does not match the request URL.")


# A proof from the future is tested well past the window: time passing between signing it and
# the server reading it moves it toward the window, so 61 s would flake on a loaded machine.
@pytest.mark.parametrize("offset", [-61, 90, -3600])
def test_iat_outside_window(cc_request, proof_key, offset):
    response = cc_request(proof_key.proof(iat=int(time.time()) + offset))
    assert_invalid_proof(response, "The DPoP proof's iat is outside the acceptable window.")


def test_iat_window_is_configurable(cc_request, proof_key, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_IAT_WINDOW": 300}
    assert cc_request(proof_key.proof(iat=int(time.time()) - 200)).status_code == 200


def test_replayed_jti(cc_request, proof_key):
    proof = proof_key.proof()
    assert cc_request(proof).status_code == 200
    assert_invalid_proof(cc_request(proof), "The DPoP proof's jti has already been used.")


def test_same_jti_with_a_new_proof_is_still_a_replay(cc_request, proof_key):
    assert cc_request(proof_key.proof(jti="fixed")).status_code == 200
    response = cc_request(proof_key.proof(jti="fixed"))
    assert_invalid_proof(response, "The DPoP proof's jti has already been used.")


def test_same_jti_from_another_key_is_not_a_replay(cc_request, proof_key):
    assert cc_request(proof_key.proof(jti="shared")).status_code == 200
    assert cc_request(ProofKey().proof(jti="shared")).status_code == 200


def test_refused_proof_does_not_use_up_its_jti(cc_request, proof_key):
    assert cc_request(proof_key.proof(jti="once", htm="GET")).status_code == 400
    assert cc_request(proof_key.proof(jti="once")).status_code == 200


def test_replay_cache_outage_fails_closed(cc_request, proof_key, settings):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        },
    }
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CACHE_ALIAS": "broken"}
    response = cc_request(proof_key.proof())
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


# --- thumbprints and discovery ---------------------------------------------------------------


def test_rfc7638_thumbprint_example():
    """RFC 7638 §3.1's example key and its SHA-256 thumbprint."""
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
            "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGj"
            "QR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-b"
            "FTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jose.jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_thumbprint_ignores_optional_members(proof_key):
    decorated = {**proof_key.jwk, "kid": "k1", "use": "sig", "alg": "ES256"}
    assert jose.jwk_thumbprint(decorated) == jose.jwk_thumbprint(proof_key.jwk) == proof_key.jkt


def test_discovery_advertises_dpop_algorithms(api_client, signing_keys):
    body = api_client.get("/.well-known/openid-configuration").json()
    assert body["dpop_signing_alg_values_supported"] == [
        "ES256",
        "ES384",
        "ES512",
        "RS256",
        "PS256",
        "EdDSA",
        "Ed25519",
    ]


# --- what a client sends is never a 500 ----------------------------------------------------


@pytest.mark.parametrize(
    "htu",
    ["https://auth.example.test/oauth/tökén", "https://äuth.example.test/oauth/token", "\ud800"],
)
def test_non_ascii_htu_is_a_mismatch(cc_request, proof_key, htu):
    response = cc_request(proof_key.proof(htu=htu))
    assert_invalid_proof(response, "The DPoP proof's htu does not match the request URL.")


@pytest.mark.parametrize("nonce", ["1.ñññ", "1.\ud800"])
def test_non_ascii_nonce_is_refused(cc_request, proof_key, settings, nonce):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_NONCE_POLICY": "always"}
    response = cc_request(proof_key.proof(nonce=nonce))
    assert response.status_code == 400
    assert response.json()["error"] == "use_dpop_nonce"
