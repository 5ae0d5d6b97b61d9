"""The token endpoint's response headers, exactly and in order (RFC 6749 §5.1: JSON, never
cached), on success and on every kind of error: the view answers through a trimmed DRF
path (no eager DRF authentication, DRF's Allow/Vary set without ``patch_vary_headers``), and
what a client sees must not change with it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import basic
from tests.responses import assert_error, assert_token

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
FORM = "application/x-www-form-urlencoded"
CC_FORM = "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com"
# After the view's own headers: DRF's, then the project's middleware (SecurityMiddleware).
JSON_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


def _names(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.items() if k not in ("Content-Length",)]


def _prefix(response, count: int) -> list[tuple[str, str]]:
    return _names(response)[:count]


def test_a_token_response(signing_keys, m2m_client, post_raw):
    client, secret = m2m_client
    response = post_raw(CC_FORM, FORM, HTTP_AUTHORIZATION=basic(client.client_id, secret))
    assert_token(response)
    assert _prefix(response, 5) == [*JSON_HEADERS, ("Vary", "Accept"), ("Allow", "POST, OPTIONS")]
    # The body is what JsonResponse wrote: json.dumps' default separators.
    assert response.content == json.dumps(response.json()).encode()


def test_an_invalid_client_response(signing_keys, m2m_client, post_raw):
    client, _ = m2m_client
    response = post_raw(CC_FORM, FORM, HTTP_AUTHORIZATION=basic(client.client_id, "wrong"))
    assert_error(response, "invalid_client", 401)
    assert _prefix(response, 6) == [
        *JSON_HEADERS,
        ("WWW-Authenticate", 'Basic realm="oauth", error="invalid_client"'),
        ("Vary", "Accept"),
        ("Allow", "POST, OPTIONS"),
    ]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (CC_FORM + "&audience=x", FORM),  # a parameter sent twice
        (CC_FORM, "text/plain"),  # a content type the endpoint does not take
        ('{"grant_type": "client_credentials", "grant_type": "x"}', "application/json"),
        ("grant_type=client_credentials&scope=%FF", FORM),  # not UTF-8
    ],
)
def test_an_invalid_request_response(signing_keys, m2m_client, post_raw, body, content_type):
    client, secret = m2m_client
    response = post_raw(body, content_type, HTTP_AUTHORIZATION=basic(client.client_id, secret))
    assert_error(response, "invalid_request", 400)
    assert _prefix(response, 5) == [*JSON_HEADERS, ("Vary", "Accept"), ("Allow", "POST, OPTIONS")]
    assert response.content == json.dumps(response.json()).encode()


def test_a_method_not_allowed_response(signing_keys, api_client):
    response = api_client.get("/oauth/token")
    assert_error(response, "invalid_request", 405)
    assert _prefix(response, 5) == [*JSON_HEADERS, ("Allow", "POST, OPTIONS"), ("Vary", "Accept")]


def test_an_options_response(signing_keys, api_client):
    response = api_client.options("/oauth/token")
    assert response.status_code == 204
    assert _prefix(response, 3) == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Allow", "POST, OPTIONS"),
        ("Vary", "Accept"),
    ]
