"""client_secret_basic, client_secret_post and none (RFC 6749 §2.3.1, §2.1; OIDC Core §9)."""

from __future__ import annotations

import base64

import pytest

from oauth_token.registry import provisioning
from tests.conftest import basic
from tests.responses import assert_error, assert_invalid_client, assert_token

pytestmark = pytest.mark.django_db

CC = {"grant_type": "client_credentials", "audience": "https://api.example.com"}


@pytest.fixture
def post_client(make_client, api):
    client, secret = make_client(name="Poster", auth_method="client_secret_post")
    provisioning.grant(client, api, ["read:things"])
    return client, secret


@pytest.fixture
def public_client(make_client, api):
    client, secret = make_client(
        name="SPA", client_type="public", grant_types=["authorization_code", "refresh_token"]
    )
    assert secret is None
    return client


# --- client_secret_basic ------------------------------------------------------------------


def test_basic_with_the_right_secret_authenticates(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    assert_token(token_request(CC, auth=(client.client_id, secret)))


def test_basic_credentials_are_form_urlencoded_before_base64(signing_keys, m2m_client, post_raw):
    """RFC 6749 §2.3.1: both parts are application/x-www-form-urlencoded first."""
    client, secret = m2m_client
    encoded = client.client_id.replace("-", "%2D") + ":" + secret.replace("_", "%5F")
    header = "Basic " + base64.b64encode(encoded.encode()).decode()
    response = post_raw(
        "grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com",
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=header,
    )
    assert_token(response)


def test_basic_with_a_wrong_secret_is_invalid_client_with_basic_challenge(
    signing_keys, m2m_client, token_request
):
    client, secret = m2m_client
    response = token_request(CC, auth=(client.client_id, secret + "x"))
    assert_invalid_client(response, scheme="Basic")


def test_unknown_client_gets_the_same_answer_as_a_wrong_secret(
    signing_keys, m2m_client, token_request
):
    """No client enumeration: an unknown client_id and a wrong secret are indistinguishable."""
    client, _ = m2m_client
    wrong_secret = token_request(CC, auth=(client.client_id, "not-the-secret"))
    unknown = token_request(CC, auth=("no-such-client", "not-the-secret"))
    assert wrong_secret.status_code == unknown.status_code == 401
    assert wrong_secret.json() == unknown.json()
    assert wrong_secret["WWW-Authenticate"] == unknown["WWW-Authenticate"]
    assert_invalid_client(unknown, scheme="Basic")


def test_inactive_client_cannot_authenticate(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    client.is_active = False
    client.save()
    assert_invalid_client(token_request(CC, auth=(client.client_id, secret)), scheme="Basic")


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic " + base64.b64encode(b"id-without-secret:").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    ],
)
def test_malformed_basic_header_is_invalid_client(signing_keys, m2m_client, token_request, header):
    response = token_request(CC, HTTP_AUTHORIZATION=header)
    assert_invalid_client(response, scheme="Basic")


def test_client_id_in_body_must_match_the_basic_header(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request({**CC, "client_id": "someone-else"}, auth=(client.client_id, secret))
    assert_error(response, "invalid_request")


def test_client_id_in_body_equal_to_the_basic_header_is_accepted(
    signing_keys, m2m_client, token_request
):
    client, secret = m2m_client
    response = token_request({**CC, "client_id": client.client_id}, auth=(client.client_id, secret))
    assert_token(response)


def test_post_client_may_not_use_basic(signing_keys, post_client, token_request):
    """A client may use only its registered method (OIDC Registration
    token_endpoint_auth_method)."""
    client, secret = post_client
    response = token_request(CC, auth=(client.client_id, secret))
    assert_invalid_client(response, scheme="Basic")


# --- client_secret_post -------------------------------------------------------------------


def test_post_with_the_right_secret_authenticates(signing_keys, post_client, token_request):
    client, secret = post_client
    body = assert_token(
        token_request({**CC, "client_id": client.client_id, "client_secret": secret})
    )
    assert body["scope"] == "read:things"


def test_post_in_a_json_body_authenticates(signing_keys, post_client, token_request):
    client, secret = post_client
    response = token_request(
        {**CC, "client_id": client.client_id, "client_secret": secret}, json=True
    )
    assert_token(response)


def test_post_with_a_wrong_secret_is_invalid_client(signing_keys, post_client, token_request):
    client, _ = post_client
    response = token_request({**CC, "client_id": client.client_id, "client_secret": "nope"})
    assert_invalid_client(response)


def test_post_for_an_unknown_client_matches_a_wrong_secret(
    signing_keys, post_client, token_request
):
    client, _ = post_client
    wrong = token_request({**CC, "client_id": client.client_id, "client_secret": "nope"})
    unknown = token_request({**CC, "client_id": "ghost", "client_secret": "nope"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert wrong.get("WWW-Authenticate") == unknown.get("WWW-Authenticate")


def test_post_without_client_id_is_invalid_client(signing_keys, post_client, token_request):
    _, secret = post_client
    assert_invalid_client(token_request({**CC, "client_secret": secret}))


def test_basic_client_may_not_use_post(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request({**CC, "client_id": client.client_id, "client_secret": secret})
    assert_invalid_client(response)


# --- several methods, or none -------------------------------------------------------------


def test_basic_and_post_in_one_request_is_invalid_request(signing_keys, m2m_client, token_request):
    """RFC 6749 §2.3: the client MUST NOT use more than one authentication method."""
    client, secret = m2m_client
    response = token_request(
        {**CC, "client_id": client.client_id, "client_secret": secret},
        auth=(client.client_id, secret),
    )
    assert_error(response, "invalid_request")


def test_secret_and_assertion_in_one_request_is_invalid_request(
    signing_keys, post_client, token_request
):
    client, secret = post_client
    response = token_request(
        {
            **CC,
            "client_id": client.client_id,
            "client_secret": secret,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "a.b.c",
        }
    )
    assert_error(response, "invalid_request")


def test_no_credentials_at_all_is_invalid_client_with_basic_challenge(
    signing_keys, m2m_client, token_request
):
    assert_invalid_client(token_request(CC), scheme="Basic")


def test_confidential_client_sending_only_its_id_is_invalid_client(
    signing_keys, m2m_client, token_request
):
    client, _ = m2m_client
    assert_invalid_client(token_request({**CC, "client_id": client.client_id}))


def test_non_basic_authorization_header_does_not_authenticate(
    signing_keys, m2m_client, token_request
):
    _, secret = m2m_client
    response = token_request(CC, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert_invalid_client(response)


# --- none (public clients) ----------------------------------------------------------------


def test_public_client_identifies_itself_with_client_id_only(
    signing_keys, public_client, token_request
):
    """A public client authenticates with 'none': the grant then decides what it may do.
    client_credentials is not among a public client's grant types, so the request gets past
    client authentication and stops at unauthorized_client."""
    response = token_request({**CC, "client_id": public_client.client_id})
    assert_error(response, "unauthorized_client")


def test_public_client_never_gets_client_credentials_tokens(
    signing_keys, make_client, api, token_request
):
    """RFC 6749 §4.4: client_credentials is for confidential clients only, even when an
    operator enabled it (and a grant) for a public one."""
    client, _ = make_client(
        name="Public M2M", client_type="public", grant_types=["authorization_code"]
    )
    client.grant_types = ["client_credentials"]  # as an old row or a raw admin edit could hold
    client.save()
    provisioning.grant(client, api, ["read:things"])
    assert_error(token_request({**CC, "client_id": client.client_id}), "unauthorized_client")


def test_public_client_cannot_present_a_secret(signing_keys, public_client, token_request):
    response = token_request(
        {**CC, "client_id": public_client.client_id, "client_secret": "anything"}
    )
    assert_invalid_client(response)


def test_public_client_cannot_use_basic(signing_keys, public_client, token_request):
    response = token_request(CC, auth=(public_client.client_id, "anything"))
    assert_invalid_client(response, scheme="Basic")


def test_unknown_public_client_id_is_invalid_client(signing_keys, public_client, token_request):
    assert_invalid_client(token_request({**CC, "client_id": "ghost"}))


def test_basic_helper_matches_rfc_example():
    """Sanity check of the test helper against RFC 7617 §2's example."""
    assert basic("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_refusals_never_echo_or_log_the_presented_secret(
    signing_keys, m2m_client, token_request, caplog
):
    client, secret = m2m_client
    caplog.set_level("DEBUG")
    presented = secret[:-4] + "WXYZ"
    for response in (
        token_request(CC, auth=(client.client_id, presented)),
        token_request({**CC, "client_id": client.client_id, "client_secret": presented}),
        token_request({**CC, "client_secret": presented}, auth=(client.client_id, presented)),
    ):
        assert response.status_code in (400, 401)
        assert presented not in response.content.decode()
    assert caplog.records, "refusals are logged"
    assert all(presented not in record.getMessage() for record in caplog.records)
    assert all(secret not in record.getMessage() for record in caplog.records)
