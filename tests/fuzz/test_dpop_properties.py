"""Property: whatever DPoP proof a client sends, signed or not, with any header members and
claim values, the token endpoint answers 200 or an RFC 6749 §5.2 JSON error below 500, and
only a proof that passes every RFC 9449 §4.3 check yields a DPoP-bound token."""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dpop_helpers import TOKEN_URL, ProofKey

from .conftest import assert_rfc6749_error

pytestmark = pytest.mark.django_db

KEY = ProofKey("ES256")
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
CLAIM_VALUES = {
    "jti": st.text(max_size=300) | JSON_VALUES,
    "htm": st.sampled_from(["POST", "GET", "post"]) | JSON_VALUES,
    "htu": st.sampled_from([TOKEN_URL, TOKEN_URL.upper(), TOKEN_URL + "/.."]) | st.text(),
    "iat": st.integers(-(2**70), 2**70) | JSON_VALUES,
    "nonce": JSON_VALUES,
    "ath": JSON_VALUES,
}
HEADER_VALUES = {
    "typ": st.sampled_from(["dpop+jwt", "DPOP+JWT", "JWT"]) | JSON_VALUES,
    "alg": st.sampled_from(["ES256", "none", "HS256", "RS256", "EdDSA"]) | JSON_VALUES,
    "jwk": st.sampled_from([KEY.jwk, KEY.private_jwk, {"kty": "oct", "k": "AA"}]) | JSON_VALUES,
    "kid": JSON_VALUES,
    "crit": JSON_VALUES,
}


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@st.composite
def proofs(draw: st.DrawFn) -> str:
    claims = {"jti": "j", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    for name in draw(st.sets(st.sampled_from(sorted(CLAIM_VALUES)))):
        claims[name] = draw(CLAIM_VALUES[name])
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": KEY.jwk}
    for name in draw(st.sets(st.sampled_from(sorted(HEADER_VALUES)))):
        header[name] = draw(HEADER_VALUES[name])
    if draw(st.booleans()):
        # Signed by the real key over the drawn header and claims.
        import jwt

        signing = {k: v for k, v in header.items() if k != "alg"}
        try:
            return jwt.encode(claims, KEY.private, algorithm="ES256", headers=signing)
        except (TypeError, ValueError, jwt.PyJWTError):
            pass
    signature = draw(st.binary(max_size=80))
    return f"{b64(header)}.{b64(claims)}.{base64.urlsafe_b64encode(signature).decode()}"


@given(proof=proofs())
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_proof_gets_a_json_answer_below_500(m2m_client, signing_keys, token_request, proof):
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
        HTTP_DPOP=proof,
    )
    assert response.status_code < 500, response.content
    if response.status_code == 200:
        assert response.json()["token_type"] == "DPoP"
        return
    body = assert_rfc6749_error(response.status_code, response["Content-Type"], response.content)
    assert body["error"] in {"invalid_dpop_proof", "use_dpop_nonce"}, body
