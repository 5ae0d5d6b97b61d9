"""What the token endpoint accepts as a request (RFC 6749 §3.2, §5.2; JSON as Auth0 accepts):
every malformed request is a JSON ``invalid_request`` — never HTML, never a 500 — and changes
nothing in the database."""

from __future__ import annotations

import json

import pytest

from tests.conftest import basic, database_state
from tests.responses import assert_error, assert_token

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
CC_FORM = "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com"


@pytest.fixture
def auth(m2m_client):
    client, secret = m2m_client
    return basic(client.client_id, secret)


@pytest.fixture
def unchanged_database(signing_keys, m2m_client):
    before = database_state()
    yield
    assert database_state() == before


def test_form_body_with_charset_is_accepted(signing_keys, auth, post_raw):
    assert_token(post_raw(CC_FORM, f"{FORM}; charset=UTF-8", HTTP_AUTHORIZATION=auth))


def test_json_body_is_accepted(signing_keys, auth, post_raw):
    body = json.dumps({"grant_type": "client_credentials", "audience": "https://api.example.com"})
    assert_token(post_raw(body, "application/json", HTTP_AUTHORIZATION=auth))


def test_json_null_counts_as_absent(signing_keys, auth, post_raw):
    body = json.dumps(
        {"grant_type": "client_credentials", "audience": "https://api.example.com", "scope": None}
    )
    token = assert_token(post_raw(body, "application/json", HTTP_AUTHORIZATION=auth))
    assert token["scope"] == "read:things write:things"


def test_empty_parameter_counts_as_absent(signing_keys, auth, post_raw):
    token = assert_token(post_raw(CC_FORM + "&scope=", FORM, HTTP_AUTHORIZATION=auth))
    assert token["scope"] == "read:things write:things"


def test_query_string_parameters_are_ignored(signing_keys, auth, api_client):
    """RFC 6749 §3.2: parameters travel in the body; a grant_type in the URL counts for nothing."""
    response = api_client.generic(
        "POST",
        "/oauth/token?grant_type=client_credentials",
        "audience=https%3A%2F%2Fapi.example.com",
        content_type=FORM,
        HTTP_AUTHORIZATION=auth,
    )
    assert_error(response, "invalid_request")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", FORM),
        ("audience=https%3A%2F%2Fapi.example.com", FORM),
        ("{}", "application/json"),
    ],
)
def test_missing_grant_type_is_invalid_request(
    unchanged_database, auth, post_raw, body, content_type
):
    body = assert_error(post_raw(body, content_type, HTTP_AUTHORIZATION=auth), "invalid_request")
    assert "grant_type" in body["error_description"]


def test_parameter_twice_in_a_form_is_invalid_request(unchanged_database, auth, post_raw):
    body = CC_FORM + "&audience=https%3A%2F%2Fother.example.com"
    described = assert_error(post_raw(body, FORM, HTTP_AUTHORIZATION=auth), "invalid_request")
    assert "audience" in described["error_description"]


def test_same_value_twice_is_still_a_duplicate(unchanged_database, auth, post_raw):
    response = post_raw(CC_FORM + "&grant_type=client_credentials", FORM, HTTP_AUTHORIZATION=auth)
    assert_error(response, "invalid_request")


def test_parameter_twice_in_json_is_invalid_request(unchanged_database, auth, post_raw):
    body = '{"grant_type": "client_credentials", "grant_type": "client_credentials"}'
    response = post_raw(body, "application/json", HTTP_AUTHORIZATION=auth)
    assert_error(response, "invalid_request")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=x", "application/xml", ""],
)
def test_other_content_types_are_invalid_request(unchanged_database, auth, post_raw, content_type):
    response = post_raw(CC_FORM, content_type, HTTP_AUTHORIZATION=auth)
    assert_error(response, "invalid_request")


def test_body_over_the_limit_is_invalid_request(unchanged_database, auth, post_raw, settings):
    padding = "&x=" + "a" * 70_000
    body = assert_error(
        post_raw(CC_FORM + padding, FORM, HTTP_AUTHORIZATION=auth), "invalid_request"
    )
    assert "too large" in body["error_description"]


def test_body_limit_comes_from_settings(signing_keys, auth, post_raw, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "MAX_BODY_BYTES": 40}
    assert_error(post_raw(CC_FORM, FORM, HTTP_AUTHORIZATION=auth), "invalid_request")


def test_parameter_over_the_length_limit_is_invalid_request(unchanged_database, auth, post_raw):
    body = assert_error(
        post_raw(CC_FORM + "&scope=" + "a" * 8193, FORM, HTTP_AUTHORIZATION=auth),
        "invalid_request",
    )
    assert "too long" in body["error_description"]


def test_too_many_parameters_is_invalid_request(unchanged_database, auth, post_raw):
    body = CC_FORM + "".join(f"&p{i}=v" for i in range(80))
    assert_error(post_raw(body, FORM, HTTP_AUTHORIZATION=auth), "invalid_request")


@pytest.mark.parametrize("char", ["%00", "%0A", "%0D", "%1B", "%7F"])
def test_control_characters_in_a_value_are_invalid_request(
    unchanged_database, auth, post_raw, char
):
    response = post_raw(CC_FORM + f"&scope=read{char}", FORM, HTTP_AUTHORIZATION=auth)
    assert_error(response, "invalid_request")


def test_nul_in_a_json_value_is_invalid_request(unchanged_database, auth, post_raw):
    body = json.dumps({"grant_type": "client_credentials\u0000"})
    assert_error(post_raw(body, "application/json", HTTP_AUTHORIZATION=auth), "invalid_request")


def test_nul_in_a_parameter_name_is_invalid_request(unchanged_database, auth, post_raw):
    assert_error(post_raw(CC_FORM + "&a%00b=1", FORM, HTTP_AUTHORIZATION=auth), "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&scope=\xff\xfe",
        b"grant_type=client_credentials&scope=%FF%FE",
        b"grant_type=client_credentials&sc%C3=1",
        # A UTF-8-encoded surrogate (CESU-8 style): strict decoding refuses it, which is why
        # a form, unlike JSON, needs no separate lone-surrogate check.
        b"grant_type=client_credentials&scope=%ED%A0%80",
        b"grant_type=client_credentials&%ED%A0%80=1",
    ],
)
def test_invalid_utf8_in_a_form_is_invalid_request(unchanged_database, auth, post_raw, body):
    assert_error(post_raw(body, FORM, HTTP_AUTHORIZATION=auth), "invalid_request")


def test_invalid_utf8_in_json_is_invalid_request(unchanged_database, auth, post_raw):
    body = b'{"grant_type": "client_credentials", "scope": "\xff"}'
    assert_error(post_raw(body, "application/json", HTTP_AUTHORIZATION=auth), "invalid_request")


def test_lone_surrogate_escape_in_json_is_invalid_request(unchanged_database, post_raw):
    """``\\ud800`` is valid JSON but no valid string: it must not reach a database query."""
    body = '{"grant_type": "client_credentials", "client_id": "\\ud800", "client_secret": "x"}'
    assert_error(post_raw(body, "application/json"), "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '[["grant_type", "client_credentials"]]',
        "[1, 2]",
        '"grant_type=client_credentials"',
        "42",
        "null",
        "true",
    ],
)
def test_json_that_is_not_an_object_is_invalid_request(unchanged_database, auth, post_raw, body):
    response = post_raw(body, "application/json", HTTP_AUTHORIZATION=auth)
    described = assert_error(response, "invalid_request")
    assert "object" in described["error_description"]


@pytest.mark.parametrize(
    "value", [1, 1.5, True, ["client_credentials"], {"a": "b"}], ids=lambda v: type(v).__name__
)
def test_json_values_must_be_strings(unchanged_database, auth, post_raw, value):
    body = json.dumps({"grant_type": "client_credentials", "scope": value})
    response = post_raw(body, "application/json", HTTP_AUTHORIZATION=auth)
    described = assert_error(response, "invalid_request")
    assert "string" in described["error_description"]


@pytest.mark.parametrize("body", ["{", '{"grant_type": }', "{'a': 'b'}", "[" * 100_000])
def test_malformed_json_is_invalid_request(unchanged_database, auth, post_raw, body, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "MAX_BODY_BYTES": 200_000}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200_000
    response = post_raw(body, "application/json", HTTP_AUTHORIZATION=auth)
    assert_error(response, "invalid_request")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405_in_json(signing_keys, api_client, method):
    response = getattr(api_client, method)("/oauth/token")
    body = assert_error(response, "invalid_request", 405)
    assert "POST" in response["Allow"]
    assert body["error_description"]


def test_head_is_405_without_html(signing_keys, api_client):
    response = api_client.head("/oauth/token")
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert not response["Content-Type"].startswith("text/html")
