"""Property: whatever JSON a client posts to /oauth/register (RFC 7591), or sends to manage a
registration (RFC 7592), the answer is 201/200 or an RFC error below 500, and a refused
registration stores nothing."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oauth_token.models import Client
from tests.authorize.helpers import oauth_settings_with

from .conftest import assert_rfc6749_error

pytestmark = pytest.mark.django_db

MEMBERS = [
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "contacts",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "jwks",
    "software_id",
    "software_version",
    "client_id",
    "client_secret",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "https://app.example.com/cb",
            "http://127.0.0.1:1/cb",
            "http://evil.example/cb",
            "javascript:alert(1)",
            "com.example.app:/cb",
            "none",
            "client_secret_basic",
            "private_key_jwt",
            "authorization_code",
            "refresh_token",
            "password",
            "code",
            "token",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
BODIES = st.one_of(
    st.dictionaries(st.sampled_from(MEMBERS), VALUES, max_size=6),
    VALUES,
)
OPEN = override_settings(
    OAUTH_TOKEN=oauth_settings_with(REGISTRATION="open", REGISTRATION_MAX_PER_IP=100000)
)


@OPEN
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
def test_any_registration_body_is_201_or_an_rfc7591_error(api_client, body):
    before = Client.objects.count()
    response = api_client.generic(
        "POST", "/oauth/register", json.dumps(body), content_type="application/json"
    )
    assert response.status_code in (201, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert_rfc6749_error(response.status_code, response["Content-Type"], response.content)
        assert Client.objects.count() == before
    else:
        assert Client.objects.count() == before + 1


@OPEN
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES, token=st.text(max_size=60), path=st.text(max_size=40))
def test_any_management_request_is_an_rfc_answer(api_client, body, token, path):
    registered = api_client.post(
        "/oauth/register", {"redirect_uris": ["https://app.example.com/cb"]}, format="json"
    ).json()
    for client_id, bearer in (
        (registered["client_id"], registered["registration_access_token"]),
        (quote(path.replace("/", ""), safe="") or "x", token),
    ):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer.isprintable() else {}
        response = api_client.generic(
            "PUT",
            f"/oauth/register/{client_id}",
            json.dumps(body),
            content_type="application/json",
            **headers,
        )
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert_rfc6749_error(response.status_code, response["Content-Type"], response.content)
