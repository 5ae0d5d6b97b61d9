"""Client ID Metadata Documents served over https from 127.0.0.1: a self-signed certificate
(once per process), a TLS stub server, and the settings that turn the feature on and make the
outbound module trust that certificate (and nothing else)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.authorize.helpers import CALLBACK, authorize_url, pkce_pair
from tests.stub_server import StubServer, respond, stub_server
from tests.tls import CertificateFiles, self_signed_certificate, server_context

DOCUMENT_PATH = "/oauth/client.json"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return self_signed_certificate(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def trusted_certificate(settings: Any, certificate: CertificateFiles) -> CertificateFiles:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "OUTBOUND_CA_FILE": certificate.cert}
    return certificate


@pytest.fixture
def documents_on(settings: Any, trusted_certificate: CertificateFiles) -> None:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CLIENT_ID_METADATA_DOCUMENTS": True}


@pytest.fixture
def https_site(certificate: CertificateFiles) -> Iterator[StubServer]:
    with stub_server(tls=server_context(certificate)) as site:
        yield site


def document(site: StubServer, path: str = DOCUMENT_PATH, **members: Any) -> dict[str, Any]:
    """What an MCP client publishes (the SDK's defaults), with ``members`` changed."""
    return {
        "client_id": site.url(path),
        "client_name": "Research Agent",
        "client_uri": "https://agent.example.org/",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **members,
    }


def publish(
    site: StubServer,
    body: Any = None,
    *,
    path: str = DOCUMENT_PATH,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> str:
    """Serve ``body`` (default: :func:`document` with ``members``) at ``path``; returns the
    client_id, the URL of the document."""
    site.routes[path] = respond(
        200, document(site, path, **members) if body is None else body, headers
    )
    return site.url(path)


def fetches(site: StubServer, path: str = DOCUMENT_PATH) -> int:
    return sum(1 for hit in site.hits if hit.path == path)


def authorize_as(browser: Any, client_id: str, **params: Any) -> tuple[Any, str]:
    """GET /authorize as the signed-in browser, a code request with PKCE to CALLBACK; returns
    the response and the code verifier."""
    verifier, challenge = pkce_pair()
    values: dict[str, Any] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid profile",
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return browser.get(authorize_url(**values)), verifier


def consent_fields(response: Any) -> dict[str, str]:
    """The consent form's hidden fields (asserting it is the consent page)."""
    assert response.status_code == 200, (response.status_code, response.content[:300])
    html = response.content.decode()
    assert '<button type="submit" name="decision" value="allow">' in html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return {k: unescape(v) for k, v in fields.items()}


def assert_error_page(response: Any, error: str = "invalid_client") -> None:
    """RFC 6749 §4.1.2.1: an unverified client is answered with a page, never a redirect."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert "Location" not in response
    assert f"<code>{error}</code>" in response.content.decode()


def assert_invalid_client(response: Any) -> None:
    assert response.status_code == 401, (response.status_code, response.content[:300])
    assert response.json()["error"] == "invalid_client"


def code_request(token_request: Any, client_id: str) -> Any:
    """A token request as a document client would send it (the code itself is beside the
    point: what these tests look at happens while the client is resolved)."""
    return token_request(
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": "not-a-code",
            "redirect_uri": CALLBACK,
            "code_verifier": "v" * 43,
        }
    )
