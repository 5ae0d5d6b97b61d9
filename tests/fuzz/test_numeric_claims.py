"""Property: any number in any numeric claim of a correctly signed JWT a client sends (a DPoP
proof, a client assertion, a jwt-bearer assertion) yields 200 or an RFC 6749 §5.2 JSON error
below 500. Numbers are drawn from the edges: non-finite values, literals no JSON library
writes (``1e400``, 400-digit integers), huge and negative integers, floats of every size,
and booleans (which Python counts as integers). Issue 12 item 8 was this class of bug."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oauth_token.registry import provisioning
from tests import kit
from tests.dpop_helpers import ProofKey

from .conftest import assert_rfc6749_error

pytestmark = pytest.mark.django_db

GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
IDP = "https://idp.example.org/"
PROOF_KEY = ProofKey("ES256")
CLIENT_KEY = kit.ec_keypair("client-key")
IDP_KEY = kit.ec_keypair("idp-key")

RAW_LITERALS = [
    "Infinity",
    "-Infinity",
    "NaN",
    "1e400",
    "-1e400",
    "1e-400",
    "1" + "0" * 400,
    "-" + "9" * 300,
    "9007199254740993",
    "-0",
    "0.5",
    "true",
    "null",
]
NUMBERS = (
    st.sampled_from(RAW_LITERALS)
    | st.integers(-(2**80), 2**80).map(str)
    | st.floats().map(lambda f: json.dumps(f))
    | st.integers(0, 2**40).map(lambda n: str(int(time.time()) + n - 2**39))
)
CLAIMS = st.dictionaries(st.sampled_from(["exp", "iat", "nbf", "auth_time"]), NUMBERS, min_size=1)


def signed(claims: dict[str, Any], raw: dict[str, str], key: Any, **header: Any) -> str:
    body = {k: v for k, v in claims.items() if k not in raw}
    text = json.dumps(body, separators=(",", ":"))[:-1]
    text += "".join(f',"{name}":{literal}' for name, literal in raw.items()) + "}"
    return jwt.PyJWS().encode(text.encode(), key, "ES256", headers=header)


@pytest.fixture
def targets(signing_keys, api, django_user_model) -> dict[str, Any]:
    django_user_model.objects.create_user("alice", password="pw")
    secret_client, secret = kit.secret_client(api)
    key_client, _ = kit.pkjwt_client(api, key=CLIENT_KEY)
    bearer = provisioning.create_client(
        name="Integration",
        grant_types=[GRANT_JWT_BEARER],
        trusted_issuers=[{"issuer": IDP, "jwks": {"keys": [IDP_KEY.jwk]}}],
    )
    provisioning.grant(bearer.client, api, ["read:things"])
    return {
        "machine": (secret_client.client_id, secret),
        "key_client": key_client.client_id,
        "bearer": (bearer.client.client_id, bearer.secret),
    }


def _request(kind: str, raw: dict[str, str], targets: dict[str, Any]) -> tuple[dict, dict]:
    form = {"grant_type": "client_credentials", "audience": kit.AUDIENCE}
    if kind == "dpop":
        claims = {
            "jti": secrets.token_urlsafe(8),
            "htm": "POST",
            "htu": kit.TOKEN_ENDPOINT,
            "iat": int(time.time()),
        }
        proof = signed(claims, raw, PROOF_KEY.private, typ="dpop+jwt", jwk=PROOF_KEY.jwk)
        return form, {"auth": targets["machine"], "HTTP_DPOP": proof}
    if kind == "client_assertion":
        claims = kit.assertion_claims(targets["key_client"])
        assertion = signed(claims, raw, CLIENT_KEY.private, kid=CLIENT_KEY.kid)
        return kit.assertion_form(assertion), {}
    claims = kit.assertion_claims("x", iss=IDP, sub="alice")
    assertion = signed(claims, raw, IDP_KEY.private, kid=IDP_KEY.kid)
    form = {"grant_type": GRANT_JWT_BEARER, "assertion": assertion, "audience": kit.AUDIENCE}
    return form, {"auth": targets["bearer"]}


@given(kind=st.sampled_from(["dpop", "client_assertion", "jwt_bearer"]), raw=CLAIMS)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_number_in_a_signed_jwt_gets_a_json_answer_below_500(targets, token_request, kind, raw):
    form, extra = _request(kind, raw, targets)
    response = token_request(form, **extra)
    assert response.status_code < 500, response.content
    if response.status_code != 200:
        assert_rfc6749_error(response.status_code, response["Content-Type"], response.content)
