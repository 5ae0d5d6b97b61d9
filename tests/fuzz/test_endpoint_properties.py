"""Property: whatever a client sends to a form endpoint — any body, content type and header
combination — the answer is below 500, and at 400 or above it is an RFC 6749 §5.2 JSON error
(error code from the registry, description within §5.2's character set, no other members).

Hypothesis drives the Django test client in-process, so each example costs milliseconds; the
example counts are bounded to keep CI fast (CONVENTIONS: the suite runs twice).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import assert_rfc6749_error, mounted_endpoints

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Requests shaped like a real client's go deeper but vary less: fewer examples suffice.
WELL_FORMED_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=100)

NAMES = [
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "audience",
    "scope",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "username",
    "password",
    "device_code",
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "assertion",
    "resource",
    "token",
    "token_type_hint",
    "response_type",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "request_uri",
    "request",
    "prompt",
    "max_age",
    "dpop_jkt",
]
GRANTS = [
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "multipart/form-data; boundary=zz",
    "application/jwt",
    "",
    "*/*",
    "application/xml",
]

names = st.one_of(st.sampled_from(NAMES), st.text(max_size=20))
values = st.one_of(
    st.sampled_from(
        [
            *GRANTS,
            "https://api.example.com",
            "read:things",
            "openid offline_access",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "S256",
            "code",
        ]
    ),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.from_regex(
        r"ey[A-Za-z0-9_-]{2,40}\.[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}", fullmatch=True
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def bodies(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["form", "json", "raw", "form-bytes"]))
    params = draw(st.lists(st.tuples(names, values), max_size=8))
    if kind == "form":
        return "application/x-www-form-urlencoded", urlencode(params).encode()
    if kind == "json":
        obj = draw(st.one_of(st.dictionaries(names, json_values, max_size=8), json_values))
        return "application/json", json.dumps(obj).encode()
    if kind == "form-bytes":
        raw = "&".join(f"{quote(n, safe='')}={v}" for n, v in params).encode("utf-8", "replace")
        return "application/x-www-form-urlencoded", raw + draw(st.binary(max_size=20))
    return draw(st.sampled_from(CONTENT_TYPES)), draw(st.binary(max_size=400))


@st.composite
def authorization_headers(draw, client_id: str, secret: str) -> dict[str, str]:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()

    choice = draw(st.sampled_from(["none", "valid", "basic-random", "bearer", "dpop", "junk"]))
    headers: dict[str, str] = {}
    if choice == "valid":
        headers["HTTP_AUTHORIZATION"] = f"Basic {b64(f'{client_id}:{secret}')}"
    elif choice == "basic-random":
        headers["HTTP_AUTHORIZATION"] = (
            f"Basic {b64(draw(st.text(max_size=40)) + ':' + draw(st.text(max_size=40)))}"
        )
    elif choice == "bearer":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {draw(st.text(max_size=40))}"
    elif choice == "dpop":
        headers["HTTP_AUTHORIZATION"] = "DPoP x"
        headers["HTTP_DPOP"] = draw(values)
    elif choice == "junk":
        headers["HTTP_AUTHORIZATION"] = draw(st.text(max_size=80))
    if draw(st.booleans()):
        headers["HTTP_DPOP"] = draw(values)
    return {k: v.encode("latin-1", "replace").decode("latin-1") for k, v in headers.items()}


ENDPOINTS = mounted_endpoints()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_any_request_gets_a_json_answer_below_500(path, fuzz_target, api_client):
    client_id, secret = fuzz_target

    @PROPERTY_SETTINGS
    @given(
        body=bodies(),
        headers=authorization_headers(client_id, secret),
        grant=st.sampled_from(GRANTS),
    )
    def check(body, headers, grant):
        content_type, raw = body
        response = api_client.generic("POST", path, raw, content_type=content_type, **headers)
        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            assert_rfc6749_error(response.status_code, response["Content-Type"], response.content)
            assert response["Cache-Control"] == "no-store"

    check()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_authenticated_well_formed_requests_reach_validation_safely(path, fuzz_target, api_client):
    """The same property for requests a real client would build (valid credentials, known
    parameter names, a known grant): generation concentrates on the grants' own checks."""
    client_id, secret = fuzz_target
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    @WELL_FORMED_SETTINGS
    @given(
        grant=st.sampled_from(GRANTS),
        params=st.dictionaries(st.sampled_from(NAMES), values, max_size=6),
        as_json=st.booleans(),
    )
    def check(grant, params, as_json):
        params = {**params, "grant_type": grant}
        params.pop("client_id", None)
        params.pop("client_secret", None)
        if as_json:
            response = api_client.generic(
                "POST",
                path,
                json.dumps(params),
                content_type="application/json",
                HTTP_AUTHORIZATION=auth,
            )
        else:
            response = api_client.generic(
                "POST",
                path,
                urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=auth,
            )
        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            assert_rfc6749_error(response.status_code, response["Content-Type"], response.content)

    check()


def test_every_mounted_endpoint_is_fuzzed():
    """The token endpoint always exists; the others join as their features land."""
    assert "/oauth/token" in ENDPOINTS
