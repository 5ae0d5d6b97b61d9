"""private_key_jwt with keys fetched from the client's ``jwks_uri`` (OIDC Core §9, RFC 7591
§2): fetched once and cached, refetched when the client rotates to a kid we have not seen,
and never turned into an amplifier by garbage kids."""

from __future__ import annotations

import pytest

from tests import kit
from tests.responses import assert_invalid_client, assert_token
from tests.stub_server import service_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def uri_client(make_jwt_client, jwks_server):
    jc = make_jwt_client("ES256", jwks_uri=jwks_server.url, kid="2024-01")
    jwks_server.jwks = {"keys": [kit.public_jwk(jc.key, "2024-01", "ES256")]}
    return jc


def test_a_jwks_uri_on_a_service_name_host_is_accepted_and_fetched(
    signing_keys, make_jwt_client, jwks_server, token_request
):
    """``http://keys:PORT/jwks.json`` (a docker-compose service name) passes provisioning; the
    outbound module resolves it when fetching (private addresses allowed in these tests)."""
    with service_names("keys"):
        jc = make_jwt_client("ES256", jwks_uri=jwks_server.url.replace("127.0.0.1", "keys"))
        jwks_server.jwks = {"keys": [kit.public_jwk(jc.key, "key-1", "ES256")]}
        assert_token(token_request(jc.params()))
    assert jwks_server.hits == 1


def test_keys_from_jwks_uri_authenticate_and_are_fetched_once(
    signing_keys, uri_client, jwks_server, token_request
):
    assert_token(token_request(uri_client.params()))
    assert_token(token_request(uri_client.params()))
    assert jwks_server.hits == 1


def test_new_kid_after_client_key_rotation_triggers_a_refetch(
    signing_keys, uri_client, jwks_server, token_request
):
    assert_token(token_request(uri_client.params()))
    new_key = kit.generate_key("ES256")
    jwks_server.jwks = {
        "keys": [
            kit.public_jwk(uri_client.key, "2024-01", "ES256"),
            kit.public_jwk(new_key, "2024-02", "ES256"),
        ]
    }
    uri_client.key, uri_client.kid = new_key, "2024-02"
    assert_token(token_request(uri_client.params()))
    assert jwks_server.hits == 2


def test_unknown_kids_refetch_at_most_once_a_minute(
    signing_keys, uri_client, jwks_server, token_request
):
    assert_token(token_request(uri_client.params()))
    for n in range(5):
        assertion = uri_client.assertion(headers={"kid": f"garbage-{n}"})
        assert_invalid_client(token_request(uri_client.params(assertion)))
    assert jwks_server.hits == 2
    assert_token(token_request(uri_client.params()))
    assert jwks_server.hits == 2


def test_key_removed_from_the_jwks_uri_stops_working_after_a_refetch(
    signing_keys, uri_client, jwks_server, token_request, settings
):
    assert_token(token_request(uri_client.params()))
    jwks_server.jwks = {"keys": [kit.public_jwk(kit.generate_key("ES256"), "x")]}
    from django.core.cache import caches

    caches["default"].clear()  # the cached copy expired (JWKS_CACHE_SECONDS)
    assert_invalid_client(token_request(uri_client.params()))
    assert jwks_server.hits == 2


def test_unreachable_jwks_uri_is_invalid_client_not_a_server_error(
    signing_keys, uri_client, jwks_server, token_request
):
    jwks_server.stop()
    body = assert_invalid_client(token_request(uri_client.params()))
    assert body["error_description"] == "The registered JWK Set could not be retrieved."


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        {"no": "keys"},
        {"keys": "not a list"},
        {"keys": []},
    ],
    ids=["not-json", "no-keys", "keys-not-a-list", "empty"],
)
def test_unusable_jwks_document_is_invalid_client(
    signing_keys, uri_client, jwks_server, token_request, document
):
    jwks_server.jwks = document  # the server JSON-encodes it; a str becomes a JSON string
    assert_invalid_client(token_request(uri_client.params()))


def test_published_private_key_is_never_used(signing_keys, uri_client, jwks_server, token_request):
    """A JWKS that leaks the private key is a broken registration, not a usable one."""
    leaked = uri_client.key.private_numbers()
    jwk = kit.public_jwk(uri_client.key, "2024-01", "ES256")
    jwk["d"] = kit.jose_int(leaked.private_value)
    jwks_server.jwks = {"keys": [jwk]}
    assert_invalid_client(token_request(uri_client.params()))
