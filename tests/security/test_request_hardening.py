"""Hostile request shapes at the token endpoint: methods, content types, duplicate and
oversized parameters, encodings, injection attempts, forged Host headers.

RFC 6749 §3.1 (parameters sent at most once; unknown ones ignored), §3.2 (POST only), §5.1
(``Cache-Control: no-store``), §5.2 (JSON errors); RFC 6819 §5.1.2 / §4.4 (input validation);
RFC 9700 §4.x. Always a JSON error with the right code, never a 500 or HTML, and no token.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests import kit

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def client_creds(signing_keys, api):
    return kit.secret_client(api)


@pytest.fixture
def raw_post(api_client, client_creds):
    """POST raw bytes with the m2m client's Basic credentials."""
    client, secret = client_creds

    def post(body: bytes | str, content_type: str = FORM, **headers):
        headers.setdefault("HTTP_AUTHORIZATION", kit.basic(client.client_id, secret))
        return api_client.generic(
            "POST", "/oauth/token", body, content_type=content_type, **headers
        )

    return post


def _form(**extra: str) -> str:
    return urlencode({"grant_type": "client_credentials", "audience": kit.AUDIENCE, **extra})


def test_valid_request_for_reference(raw_post):
    response = raw_post(_form())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_methods_other_than_post_are_405_json(api_client, signing_keys, unchanged, method):
    unchanged()
    response = api_client.generic(method, f"/oauth/token?{_form()}")
    kit.assert_oauth_error(response, 405, "invalid_request")
    assert "POST" in response["Allow"]


def test_duplicate_grant_type_in_form_is_invalid_request(raw_post, unchanged):
    unchanged()
    body = _form() + "&grant_type=password"
    kit.assert_oauth_error(raw_post(body), 400, "invalid_request")


def test_duplicate_audience_in_form_is_invalid_request(raw_post, unchanged):
    """Parameter pollution: which audience would win is exactly what an attacker exploits."""
    unchanged()
    body = _form() + "&audience=https%3A%2F%2Fevil.example%2F"
    kit.assert_oauth_error(raw_post(body), 400, "invalid_request")


def test_duplicate_scope_with_empty_first_value_is_invalid_request(raw_post, unchanged):
    unchanged()
    body = "scope=&" + _form(scope="read:things")
    kit.assert_oauth_error(raw_post(body), 400, "invalid_request")


def test_duplicate_key_in_json_is_invalid_request(raw_post, unchanged):
    unchanged()
    body = (
        '{"grant_type": "client_credentials", "audience": "https://api.example.com",'
        ' "audience": "https://evil.example/"}'
    )
    kit.assert_oauth_error(raw_post(body, "application/json"), 400, "invalid_request")


def test_duplicate_client_secret_is_invalid_request(api_client, signing_keys, api, unchanged):
    client, secret = kit.secret_client(api, "client_secret_post")
    unchanged()
    body = _form(client_id=client.client_id, client_secret=secret) + f"&client_secret={secret}"
    response = api_client.generic("POST", "/oauth/token", body, content_type=FORM)
    kit.assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jwt",
        "application/x-www-form-urlencodedx",
        "",
    ],
)
def test_unsupported_content_type_is_invalid_request(raw_post, unchanged, content_type):
    unchanged()
    kit.assert_oauth_error(raw_post(_form(), content_type), 400, "invalid_request")


def test_content_type_parameters_and_case_are_tolerated(raw_post):
    response = raw_post(_form(), "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    ['["grant_type", "client_credentials"]', '"client_credentials"', "42", "null", "{"],
    ids=["array", "string", "number", "null", "truncated"],
)
def test_json_body_that_is_not_an_object_is_invalid_request(raw_post, unchanged, body):
    unchanged()
    kit.assert_oauth_error(raw_post(body, "application/json"), 400, "invalid_request")


@pytest.mark.parametrize("value", [42, True, ["a"], {"a": "b"}], ids=["int", "bool", "list", "obj"])
def test_json_non_string_parameter_is_invalid_request(raw_post, unchanged, value):
    unchanged()
    body = json.dumps(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE, "scope": value}
    )
    kit.assert_oauth_error(raw_post(body, "application/json"), 400, "invalid_request")


def test_deeply_nested_json_is_invalid_request_not_recursion_error(raw_post, unchanged):
    unchanged()
    body = '{"a":' * 100_00 + "1" + "}" * 100_00
    response = raw_post(body, "application/json")
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_oversized_body_is_refused(raw_post, unchanged):
    """RFC 6819 §4.4 / resource exhaustion: the body limit (64 KiB) is enforced."""
    unchanged()
    body = _form(padding="x" * (70 * 1024))
    kit.assert_oauth_error(raw_post(body), 400, "invalid_request")


def test_oversized_declared_content_length_is_refused_before_reading(raw_post, unchanged):
    unchanged()
    response = raw_post(_form(), CONTENT_LENGTH=str(10**9))
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_non_numeric_content_length_is_refused(raw_post, unchanged):
    unchanged()
    kit.assert_oauth_error(raw_post(_form(), CONTENT_LENGTH="12abc"), 400, "invalid_request")


def test_oversized_parameter_is_refused(raw_post, unchanged):
    unchanged()
    kit.assert_oauth_error(raw_post(_form(scope="s" * 9000)), 400, "invalid_request")


def test_too_many_parameters_are_refused(raw_post, unchanged):
    """Hash-flooding and parser exhaustion: at most 64 fields."""
    unchanged()
    body = _form() + "".join(f"&p{i}=v" for i in range(100))
    kit.assert_oauth_error(raw_post(body), 400, "invalid_request")


def test_too_many_json_members_are_refused(raw_post, unchanged):
    unchanged()
    payload = {"grant_type": "client_credentials", **{f"p{i}": "v" for i in range(100)}}
    kit.assert_oauth_error(
        raw_post(json.dumps(payload), "application/json"), 400, "invalid_request"
    )


def test_nul_byte_in_a_value_is_refused(raw_post, unchanged):
    unchanged()
    kit.assert_oauth_error(raw_post(_form(scope="read:things\x00admin")), 400, "invalid_request")


def test_nul_byte_in_a_parameter_name_is_refused(raw_post, unchanged):
    unchanged()
    kit.assert_oauth_error(raw_post(_form() + "&sco%00pe=x"), 400, "invalid_request")


def test_crlf_in_audience_is_refused(raw_post, unchanged):
    """Header/log injection: CR/LF never reach a header or a log line."""
    unchanged()
    response = raw_post(_form(audience="https://api.example.com\r\nSet-Cookie: pwned=1"))
    kit.assert_oauth_error(response, 400, "invalid_request")
    assert "Set-Cookie" not in response


def test_crlf_in_grant_type_is_not_reflected_into_headers(raw_post, unchanged):
    unchanged()
    response = raw_post(urlencode({"grant_type": "x\r\nX-Evil: 1"}))
    kit.assert_oauth_error(response, 400, "invalid_request")
    assert "X-Evil" not in response


def test_lone_surrogate_in_json_is_refused(raw_post, unchanged):
    unchanged()
    body = '{"grant_type": "client_credentials", "audience": "https://api.example.com\\ud800"}'
    kit.assert_oauth_error(raw_post(body, "application/json"), 400, "invalid_request")


def test_lone_surrogate_in_json_name_is_refused(raw_post, unchanged):
    unchanged()
    body = '{"grant_type": "client_credentials", "\\udfff": "x"}'
    kit.assert_oauth_error(raw_post(body, "application/json"), 400, "invalid_request")


def test_invalid_utf8_in_form_body_is_refused(raw_post, unchanged):
    unchanged()
    kit.assert_oauth_error(raw_post(_form().encode() + b"&scope=%ff%fe"), 400, "invalid_request")


def test_raw_invalid_utf8_bytes_are_refused(raw_post, unchanged):
    unchanged()
    kit.assert_oauth_error(raw_post(_form().encode() + b"&scope=\xff"), 400, "invalid_request")


def test_unicode_scope_is_invalid_scope_not_500(raw_post, unchanged):
    unchanged()
    response = raw_post(_form(scope="read:th\u0456ngs \U0001f600"))
    kit.assert_oauth_error(response, 400, "invalid_scope")


def test_rtl_override_in_scope_is_invalid_scope(raw_post, unchanged):
    unchanged()
    response = raw_post(_form(scope="read:things\u202ewrite"))
    kit.assert_oauth_error(response, 400, "invalid_scope")


def test_missing_grant_type_is_invalid_request(raw_post, unchanged):
    unchanged()
    response = raw_post(urlencode({"audience": kit.AUDIENCE}))
    kit.assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "grant_type",
    [
        "CLIENT_CREDENTIALS",
        "client_credentials ",
        " client_credentials",
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
    ],
)
def test_unknown_grant_type_is_unsupported(raw_post, unchanged, grant_type):
    unchanged()
    response = raw_post(urlencode({"grant_type": grant_type, "audience": kit.AUDIENCE}))
    kit.assert_oauth_error(response, 400, "unsupported_grant_type")


def test_huge_grant_type_is_not_reflected_in_full(raw_post, unchanged):
    unchanged()
    response = raw_post(urlencode({"grant_type": "g" * 5000}))
    kit.assert_oauth_error(response, 400, "unsupported_grant_type")
    assert len(response.content) < 1000


def test_markup_in_parameters_is_never_served_as_html(raw_post, unchanged):
    unchanged()
    response = raw_post(urlencode({"grant_type": "<script>alert(1)</script>"}))
    kit.assert_oauth_error(response, 400, "unsupported_grant_type")
    assert response["Content-Type"] == "application/json"
    assert response.get("X-Content-Type-Options") == "nosniff"


def test_forged_host_header_does_not_change_the_token_issuer(raw_post):
    """The issuer comes from settings: a Host header cannot mint tokens for another issuer."""
    import jwt

    response = raw_post(_form(), HTTP_HOST="evil.example")
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == kit.ISSUER


def test_forwarded_host_header_does_not_change_the_token_issuer(raw_post):
    import jwt

    response = raw_post(
        _form(), HTTP_X_FORWARDED_HOST="evil.example", HTTP_X_FORWARDED_PROTO="http"
    )
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == kit.ISSUER


def test_unknown_parameters_are_ignored(raw_post):
    """RFC 6749 §3.2: unrecognised parameters are ignored, not an error and not echoed."""
    response = raw_post(_form(admin="true", role="superuser"))
    assert response.status_code == 200
    body = response.json()
    assert "admin" not in body and "role" not in body
    assert body["scope"] == "read:things write:things"


def test_error_responses_are_not_cacheable(raw_post):
    response = raw_post(urlencode({"grant_type": "nope"}))
    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"


def test_options_preflight_reveals_nothing(api_client, signing_keys):
    response = api_client.options("/oauth/token")
    assert response.status_code == 204
    assert response.content == b""
    assert "POST" in response["Allow"]
