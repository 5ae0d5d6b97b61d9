"""Audience injection (issue 12 item 6; OpenID Foundation, 2025 advisory on private_key_jwt):
an assertion a client signed for several parties, ``aud: [other, this server]``, must not
authenticate it here, or whoever received it first can replay it to us. ``aud`` must name
only this server: its issuer or token endpoint, as a string or a one-element array."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests import kit

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def key_client(signing_keys, api):
    return kit.pkjwt_client(api)


@pytest.fixture
def hmac_client(signing_keys, api):
    return kit.secret_jwt_client(api)


MULTI = [
    ["https://attacker.example/", kit.ISSUER],
    [kit.ISSUER, "https://attacker.example/"],
    [kit.TOKEN_ENDPOINT, kit.ISSUER],
    [kit.ISSUER, kit.ISSUER],
    [],
    [["https://attacker.example/", kit.ISSUER]],
]


@pytest.mark.parametrize("aud", MULTI, ids=lambda a: "-".join(map(str, a)) or "empty")
def test_private_key_jwt_assertion_for_several_audiences_is_refused(
    key_client, token_request, unchanged, aud
):
    client, key = key_client
    unchanged()
    response = token_request(
        kit.assertion_form(kit.private_key_assertion(client.client_id, key, aud=aud))
    )
    body = kit.assert_oauth_error(response, 401, "invalid_client")
    assert "aud" in body["error_description"]


@pytest.mark.parametrize("aud", MULTI[:3], ids=["attacker-first", "attacker-last", "two-of-ours"])
def test_client_secret_jwt_assertion_for_several_audiences_is_refused(
    hmac_client, token_request, unchanged, aud
):
    client, secret = hmac_client
    unchanged()
    response = token_request(
        kit.assertion_form(kit.secret_assertion(client.client_id, secret, "HS512", aud=aud))
    )
    kit.assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "aud", [kit.ISSUER, [kit.ISSUER], kit.TOKEN_ENDPOINT, [kit.TOKEN_ENDPOINT]]
)
def test_a_single_audience_naming_this_server_still_authenticates(key_client, token_request, aud):
    client, key = key_client
    response = token_request(
        kit.assertion_form(kit.private_key_assertion(client.client_id, key, aud=aud))
    )
    assert response.status_code == 200, response.content


def test_the_same_multi_audience_assertion_is_refused_at_every_authenticated_endpoint(
    key_client, api_client
):
    """Revocation, introspection and PAR authenticate clients through the same code."""
    client, key = key_client
    for path in ("/oauth/revoke", "/oauth/introspect", "/oauth/par"):
        assertion = kit.private_key_assertion(
            client.client_id, key, aud=["https://attacker.example/", kit.ISSUER]
        )
        form = {
            "client_assertion_type": kit.ASSERTION_TYPE,
            "client_assertion": assertion,
            "token": "x",
            "response_type": "code",
            "redirect_uri": "https://app.example/cb",
        }
        response = api_client.post(path, urlencode(form), content_type=FORM)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["error"] == "invalid_client"
