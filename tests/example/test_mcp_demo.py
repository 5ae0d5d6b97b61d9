"""The MCP demo end to end: the official MCP SDK's OAuth client discovers the demo MCP server
(``manage.py mcp_demo``), finds this authorization server through its RFC 9728 metadata,
registers itself (RFC 7591), signs a person in through the real login and consent pages, and
calls the ``whoami`` tool with the token it got (audience = the MCP server's URL, RFC 8707)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx2
import pytest
import requests
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.example.conftest import (
    MANAGE,
    credentials,
    example_env,
    free_port,
    manage,
    quickstart_server,
)
from tests.stub_server import respond, stub_server
from tests.tls import self_signed_certificate, server_context

USERNAME, PASSWORD = "demo", "demo-password-123"
METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"


class FormParser(HTMLParser):
    """The first POST form of a page: its action and its input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.names: list[str] = []
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None and values.get("method", "").lower() == "post":
            self.action, self._in_form = values.get("action", ""), True
        elif tag == "input" and self._in_form and values.get("name"):
            self.names.append(values["name"])
            if values.get("type") == "hidden":
                self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


class Person:
    """A person at a browser: follows redirects, fills in the login form, allows on the
    consent page, and stops at the client's redirect URI (which nothing serves)."""

    def __init__(self, callback: str):
        self.callback = callback
        self.http = requests.Session()
        self.pages: list[str] = []

    def sign_in(self, url: str) -> str:
        response = self.http.get(url, allow_redirects=False, timeout=30)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(self.callback):
                    return location
                response = self.http.get(location, allow_redirects=False, timeout=30)
                continue
            assert response.status_code == 200, (response.status_code, response.text[:500])
            form = FormParser()
            form.feed(response.text)
            assert form.action is not None, response.text[:500]
            fields = dict(form.fields)
            if "password" in form.names:
                self.pages.append("login")
                fields.update(username=USERNAME, password=PASSWORD)
            else:
                self.pages.append("consent")
                fields["decision"] = "allow"
            response = self.http.post(
                urljoin(response.url, form.action), data=fields, allow_redirects=False, timeout=30
            )
        raise AssertionError(f"no redirect to the client after {self.pages}")


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@contextmanager
def mcp_demo(tmp_path: Path, issuer: str) -> Iterator[str]:
    """``manage.py mcp_demo`` on a free port, sharing the authorization server's database."""
    port = free_port()
    log = tmp_path / "mcp.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "mcp_demo", "--port", str(port)],
            env=example_env(tmp_path, OAUTH_ISSUER=issuer, OAUTH_REGISTRATION="open"),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mcp_demo did not start:\n{log.read_text()}")
            try:
                urllib.request.urlopen(f"{base}{METADATA_PATH}", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def call_whoami(
    mcp_url: str, person: Person, client_metadata_url: str | None = None
) -> tuple[dict[str, Any], MemoryStorage]:
    storage = MemoryStorage()
    redirected: list[str] = []

    async def redirect_handler(url: str) -> None:
        redirected.append(await anyio.to_thread.run_sync(person.sign_in, url))

    async def callback_handler() -> AuthorizationCodeResult:
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirected[-1]).query).items()}
        assert "error" not in query, query
        return AuthorizationCodeResult(code=query["code"], state=query["state"], iss=query["iss"])

    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="MCP SDK acceptance client",
            redirect_uris=[person.callback],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=client_metadata_url,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=60) as http,
        streamable_http_client(mcp_url, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        result = await session.call_tool("whoami", {})
    assert not result.is_error, result
    payload = result.structured_content or json.loads(result.content[0].text)
    return dict(payload.get("result", payload)), storage


def test_the_mcp_sdk_discovers_registers_signs_in_and_calls_the_tool(tmp_path):
    with (
        quickstart_server(tmp_path, OAUTH_REGISTRATION="open") as (base, _log),
        mcp_demo(tmp_path, f"{base}/") as mcp_base,
    ):
        mcp_url = f"{mcp_base}/mcp"
        unauthenticated = requests.post(mcp_url, json={}, timeout=10)
        assert unauthenticated.status_code == 401
        metadata_url = f"{mcp_base}/.well-known/oauth-protected-resource/mcp"
        assert f'resource_metadata="{metadata_url}"' in unauthenticated.headers["WWW-Authenticate"]
        metadata = requests.get(metadata_url, timeout=10).json()
        assert metadata["resource"] == mcp_url
        assert metadata["authorization_servers"] == [f"{base}/"]

        person = Person(callback=f"http://127.0.0.1:{free_port()}/callback")
        whoami, storage = anyio.run(call_whoami, mcp_url, person)

        assert person.pages == ["login", "consent"]
        client_id = storage.client_info.client_id
        assert whoami["client_id"] == client_id
        assert "mcp:tools" in whoami["scope"]
        shown = manage(tmp_path, "oauth_client", "show", client_id, "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["type"] == "public"
        tokens = storage.tokens
        assert tokens is not None and tokens.refresh_token
        assert whoami["sub"] and whoami["sub"] != client_id
        # A valid token of this server for another API is refused by the MCP server.
        m2m = requests.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials", "audience": "https://api.example.com"},
            auth=demo_credentials(tmp_path),
            timeout=10,
        ).json()["access_token"]
        refused = requests.post(
            mcp_url, json={}, headers={"Authorization": f"Bearer {m2m}"}, timeout=10
        )
        assert refused.status_code == 401
        # The resource indicator bound the SDK's token to the MCP server's URL.
        claims = json.loads(_b64(tokens.access_token.split(".")[1]))
        assert claims["aud"] == mcp_url


def _b64(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def demo_credentials(tmp_path: Path) -> tuple[str, str]:
    """The demo M2M client's credentials (``quickstart --no-serve`` rotates its secret)."""
    output = manage(tmp_path, "quickstart", "--no-serve").stdout
    found = credentials(output)
    return found["client_id"], found["client_secret"]


def test_the_mcp_sdk_signs_in_with_a_client_id_metadata_document(tmp_path):
    """Registration closed, Client ID Metadata Documents on: the SDK sees
    ``client_id_metadata_document_supported`` and uses the https URL of its published metadata
    as client_id (served here over TLS from 127.0.0.1, trusted through OUTBOUND_CA_FILE); the
    server fetches it once for /authorize, consent and the token request."""
    certificate = self_signed_certificate(tmp_path)
    person = Person(callback=f"http://127.0.0.1:{free_port()}/callback")
    with stub_server(tls=server_context(certificate)) as site:
        document_url = site.url("/mcp-client.json")
        site.routes["/mcp-client.json"] = respond(
            200,
            {
                "client_id": document_url,
                "client_name": "MCP SDK metadata-document client",
                "redirect_uris": [person.callback],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            },
            {"Cache-Control": "max-age=300"},
        )
        with (
            quickstart_server(
                tmp_path,
                OAUTH_CLIENT_ID_METADATA_DOCUMENTS="true",
                OAUTH_OUTBOUND_CA_FILE=certificate.cert,
            ) as (base, _log),
            mcp_demo(tmp_path, f"{base}/") as mcp_base,
        ):
            discovery = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10)
            assert discovery.json()["client_id_metadata_document_supported"] is True
            assert "registration_endpoint" not in discovery.json()
            whoami, storage = anyio.run(call_whoami, f"{mcp_base}/mcp", person, document_url)

        assert person.pages == ["login", "consent"]
        assert storage.client_info is not None
        assert storage.client_info.client_id == document_url
        assert whoami["client_id"] == document_url
        assert "mcp:tools" in whoami["scope"]
        assert site.paths() == ["/mcp-client.json"]
