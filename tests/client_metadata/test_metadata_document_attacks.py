"""Attacks through a URL client_id (draft-ietf-oauth-client-id-metadata-document, Security
Considerations): SSRF, redirects, impersonation of another client's URL, shared secrets,
oversized and malformed documents, unregistered redirect URIs. Each is refused with an RFC
error (an error page at /authorize, never a redirect; ``invalid_client`` at the token
endpoint), never a 500, and leaves no client behind."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_token.models import Client
from tests.authorize.helpers import CALLBACK
from tests.client_metadata.fixtures import (
    DOCUMENT_PATH,
    assert_error_page,
    assert_invalid_client,
    authorize_as,
    code_request,
    consent_fields,
    document,
    fetches,
    publish,
)
from tests.stub_server import redirect, respond, stub_server

pytestmark = pytest.mark.django_db


def assert_refused(browser: Any, token_request: Any, client_id: str) -> None:
    """Both doors closed, and no client row kept for the URL."""
    assert_error_page(authorize_as(browser, client_id)[0])
    assert_invalid_client(code_request(token_request, client_id))
    assert not Client.objects.filter(client_id=client_id).exists()


def test_ssrf_client_id_pointing_at_private_address_is_refused(
    settings, documents_on, https_site, browser, token_request
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": False}
    client_id = publish(https_site)
    assert_refused(browser, token_request, client_id)
    assert https_site.hits == []


def test_client_id_redirecting_into_the_network_is_not_followed(
    documents_on, https_site, browser, token_request
):
    target = publish(https_site, path="/internal/client.json")
    https_site.routes[DOCUMENT_PATH] = redirect(target)
    client_id = https_site.url(DOCUMENT_PATH)
    assert_refused(browser, token_request, client_id)
    assert fetches(https_site, "/internal/client.json") == 0


def test_plain_http_client_id_is_never_fetched(documents_on, browser, token_request):
    with stub_server() as site:
        client_id = site.url(DOCUMENT_PATH)
        site.routes[DOCUMENT_PATH] = respond(200, {**document(site), "client_id": client_id})
        assert_refused(browser, token_request, client_id)
        assert site.hits == []


@pytest.mark.parametrize(
    "shape",
    [
        "https://user:pw@{host}/oauth/client.json",
        "https://{host}/oauth/client.json#frag",
        "https://{host}/oauth/../client.json",
        "https://{host}/oauth/%2e%2e/client.json",
        "https://{host}/./client.json",
        "https://{host}",
        "HTTPS://{host}/oauth/client.json",
        "https://{host}/oauth/client.json\n",
    ],
)
def test_malformed_client_id_url_is_never_fetched(
    documents_on, https_site, browser, token_request, shape
):
    client_id = shape.format(host=f"127.0.0.1:{https_site.port}")
    publish(https_site, {"client_id": client_id, "redirect_uris": [CALLBACK]})
    https_site.routes["/client.json"] = https_site.routes[DOCUMENT_PATH]
    response, _ = authorize_as(browser, client_id)
    assert response.status_code == 400 and "Location" not in response
    token = code_request(token_request, client_id)
    assert token.status_code in (400, 401)
    assert token.json()["error"] in ("invalid_client", "invalid_request")
    assert https_site.hits == []


def test_document_claiming_another_client_id_is_refused(
    documents_on, https_site, browser, token_request
):
    """An attacker's document naming a well-known client's URL must not become that client."""
    victim = https_site.url("/victim/client.json")
    client_id = publish(https_site, client_id=victim)
    assert_refused(browser, token_request, client_id)
    assert not Client.objects.filter(client_id=victim).exists()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'"client"', b"", b"\xff\xfe"],
    ids=["broken", "array", "string", "empty", "binary"],
)
def test_malformed_document_is_refused(documents_on, https_site, browser, token_request, body):
    https_site.routes[DOCUMENT_PATH] = respond(200, body)
    assert_refused(browser, token_request, https_site.url(DOCUMENT_PATH))


def test_oversized_document_is_refused(documents_on, https_site, browser, token_request):
    client_id = publish(https_site, client_uri="https://agent.example.org/" + "x" * 6000)
    assert_refused(browser, token_request, client_id)


@pytest.mark.parametrize(
    "members",
    [
        {"client_secret": "chosen-by-the-client"},
        {"client_secret_expires_at": 0},
        {"token_endpoint_auth_method": "client_secret_basic"},
        {"token_endpoint_auth_method": "client_secret_post"},
        {"token_endpoint_auth_method": "client_secret_jwt"},
        {"token_endpoint_auth_method": ["none"]},
        {
            "token_endpoint_auth_method": "none",
            "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0LWtleS1tYXRlcmlhbA"}]},
        },
    ],
    ids=["secret", "secret-expiry", "basic", "post", "hmac-jwt", "not-a-string", "private-jwk"],
)
def test_document_with_a_shared_secret_is_refused(
    documents_on, https_site, browser, token_request, members
):
    client_id = publish(https_site, **members)
    assert_refused(browser, token_request, client_id)


@pytest.mark.parametrize(
    "members",
    [
        {"grant_types": ["authorization_code", "password"]},
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]},
        {"redirect_uris": []},
        {"redirect_uris": ["javascript:alert(1)"]},
        {"redirect_uris": ["http://app.example.com/callback"]},
        {"redirect_uris": "https://app.example.com/callback"},
        {"response_types": ["token"]},
        {"client_name": "Agent\u0000"},
    ],
    ids=[
        "password",
        "client-credentials",
        "device-code",
        "no-redirect-uris",
        "javascript-uri",
        "http-uri",
        "uri-not-a-list",
        "implicit",
        "control-character",
    ],
)
def test_document_asking_for_more_than_a_public_client_may_is_refused(
    documents_on, https_site, browser, token_request, members
):
    client_id = publish(https_site, **members)
    assert_refused(browser, token_request, client_id)


def test_redirect_uri_missing_from_the_document_is_never_redirected_to(
    documents_on, https_site, browser
):
    client_id = publish(https_site)
    response, _ = authorize_as(browser, client_id, redirect_uri="https://attacker.example/cb")
    assert_error_page(response, "invalid_request")


def test_untrusted_certificate_is_refused(
    settings, documents_on, https_site, browser, token_request
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "OUTBOUND_CA_FILE": None}
    assert_refused(browser, token_request, publish(https_site))


def test_unreachable_document_is_refused(documents_on, https_site, browser, token_request):
    client_id = https_site.url("/missing.json")  # 404
    assert_refused(browser, token_request, client_id)


def test_client_name_is_escaped_on_the_consent_page(documents_on, https_site, browser):
    client_id = publish(https_site, client_name='<img src=x onerror="alert(1)">Agent')
    response, _ = authorize_as(browser, client_id)
    consent_fields(response)
    html = response.content.decode()
    assert "<img" not in html
    assert "&lt;img src=x" in html


def test_refused_document_is_not_remembered_once_fixed(
    documents_on, https_site, browser, token_request
):
    """§5.2: invalid documents are not cached; the corrected one is used at once."""
    client_id = publish(https_site, client_secret="oops")
    assert_refused(browser, token_request, client_id)
    publish(https_site)
    consent_fields(authorize_as(browser, client_id)[0])
    assert fetches(https_site) == 3


def test_a_stale_document_that_disappears_ends_the_client(
    settings, documents_on, https_site, browser, token_request
):
    import time

    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS": 1,
    }
    client_id = publish(https_site, headers={"Cache-Control": "max-age=1"})
    consent_fields(authorize_as(browser, client_id)[0])
    del https_site.routes[DOCUMENT_PATH]
    time.sleep(1.2)
    assert_error_page(authorize_as(browser, client_id)[0])
    assert_invalid_client(code_request(token_request, client_id))
