"""End to end, as the README promises: start the example project, get a token with the printed
credentials, verify it against /.well-known/jwks.json with PyJWT's PyJWKClient, call the API."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import jwt
import pytest

from .conftest import credentials, quickstart_server


class Server:
    def __init__(self, base: str, output: str):
        self.base = base
        self.credentials = credentials(output)

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("example")
    with quickstart_server(tmp) as (base, log):
        yield Server(base, log.read_text())


def _token(server: Server) -> dict:
    creds = server.credentials
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    status, headers, body = server.request(
        "/oauth/token",
        {"grant_type": "client_credentials", "audience": "https://api.example.com"},
        {"Authorization": f"Basic {basic}"},
    )
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    return json.loads(body)


def test_printed_credentials_get_a_token_that_verifies_against_the_jwks(server):
    body = _token(server)
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read:things write:things"
    signing_key = jwt.PyJWKClient(server.base + "/.well-known/jwks.json").get_signing_key_from_jwt(
        body["access_token"]
    )
    claims = jwt.decode(
        body["access_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience="https://api.example.com",
        issuer=server.base + "/",
    )
    assert claims["client_id"] == server.credentials["client_id"]
    assert claims["sub"] == f"{server.credentials['client_id']}@clients"


def test_whoami_returns_the_tokens_subject_client_and_scope(server):
    token = _token(server)["access_token"]
    status, _, body = server.request("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    client_id = server.credentials["client_id"]
    assert json.loads(body) == {
        "sub": f"{client_id}@clients",
        "client_id": client_id,
        "scope": "read:things write:things",
    }


def test_whoami_without_a_valid_token_is_401_with_a_challenge(server):
    status, headers, _ = server.request("/api/whoami")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, headers, body = server.request(
        "/api/whoami", headers={"Authorization": "Bearer not.a.token"}
    )
    assert status == 401
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    assert json.loads(body)["error"] == "invalid_token"


def test_login_admin_and_discovery_are_served(server):
    status, _, body = server.request("/accounts/login/")
    assert status == 200
    assert b'name="username"' in body and b'name="password"' in body
    assert server.request("/admin/login/")[0] == 200
    status, _, body = server.request("/.well-known/openid-configuration")
    assert status == 200
    metadata = json.loads(body)
    assert metadata["issuer"] == server.base + "/"
    assert metadata["token_endpoint"] == server.base + "/oauth/token"
