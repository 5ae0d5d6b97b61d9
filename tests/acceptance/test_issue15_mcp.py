"""Acceptance (issue 15, items 2-5) against the running example project: two independent
clients, one speaking raw HTTP and one the official MCP SDK, register themselves, get tokens
for several resources and narrow them, use them at the MCP server and at the demo API; then a
registration flood meets the throttle."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx2
import requests
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.authorize.helpers import pkce_pair
from tests.example.conftest import free_port, quickstart_server
from tests.example.test_mcp_demo import Person, call_whoami, mcp_demo

DEMO_API = "https://api.example.com"


def claims_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def register(base: str, metadata: dict[str, Any]) -> requests.Response:
    return requests.post(f"{base}/oauth/register", json=metadata, timeout=10)


async def call_tool_with(mcp_url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(mcp_url, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        result = await session.call_tool("whoami", {})
    assert not result.is_error, result
    payload = result.structured_content or json.loads(result.content[0].text)
    return dict(payload.get("result", payload))


def test_registration_resource_indicators_and_mcp_with_independent_clients(tmp_path):
    with (
        quickstart_server(tmp_path, OAUTH_REGISTRATION="open") as (base, _log),
        mcp_demo(tmp_path, f"{base}/") as mcp_base,
    ):
        mcp_url = f"{mcp_base}/mcp"
        discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
        assert discovery["registration_endpoint"] == f"{base}/oauth/register"

        # Client A: a confidential web app speaking plain HTTP.
        callback = f"http://127.0.0.1:{free_port()}/cb"
        created = register(
            base,
            {
                "client_name": "Acceptance web app",
                "redirect_uris": [callback],
                "grant_types": ["authorization_code", "refresh_token"],
            },
        )
        assert created.status_code == 201, created.text
        app = created.json()
        auth = (app["client_id"], app["client_secret"])

        # One authorization for two resources: the MCP server and the demo API.
        verifier, challenge = pkce_pair()
        query = urlencode(
            [
                ("response_type", "code"),
                ("client_id", app["client_id"]),
                ("redirect_uri", callback),
                ("scope", "mcp:tools read:things offline_access"),
                ("state", "s1"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("resource", mcp_url),
                ("resource", DEMO_API),
            ]
        )
        person = Person(callback)
        redirect = person.sign_in(f"{base}/authorize?{query}")
        assert person.pages == ["login", "consent"]
        code = parse_qs(urlsplit(redirect).query)["code"][0]
        tokens = requests.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": callback,
                "code_verifier": verifier,
                "resource": mcp_url,
            },
            auth=auth,
            timeout=10,
        ).json()
        mcp_claims = claims_of(tokens["access_token"])
        assert mcp_claims["aud"] == mcp_url
        assert mcp_claims["scope"] == "mcp:tools offline_access"
        whoami = anyio.run(call_tool_with, mcp_url, tokens["access_token"])
        assert whoami["client_id"] == app["client_id"]

        # The same grant, refreshed for the other resource: usable at the demo API only.
        refreshed = requests.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "resource": DEMO_API,
            },
            auth=auth,
            timeout=10,
        ).json()
        api_token = refreshed["access_token"]
        assert claims_of(api_token)["scope"] == "read:things offline_access"
        api = requests.get(
            f"{base}/api/whoami", headers={"Authorization": f"Bearer {api_token}"}, timeout=10
        )
        assert api.status_code == 200 and api.json()["client_id"] == app["client_id"]
        refused = requests.post(
            mcp_url, json={}, headers={"Authorization": f"Bearer {api_token}"}, timeout=10
        )
        assert refused.status_code == 401
        not_granted = requests.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refreshed["refresh_token"],
                "resource": "https://unknown.example.com",
            },
            auth=auth,
            timeout=10,
        )
        assert not_granted.status_code == 400
        assert not_granted.json()["error"] == "invalid_target"

        # Client B: the MCP SDK's own OAuth client, independently.
        sdk_person = Person(callback=f"http://127.0.0.1:{free_port()}/callback")
        sdk_whoami, storage = anyio.run(call_whoami, mcp_url, sdk_person)
        assert storage.client_info is not None
        assert sdk_whoami["client_id"] == storage.client_info.client_id != app["client_id"]

        # One client's registration access token manages nothing of another's.
        other = requests.get(
            f"{base}/oauth/register/{storage.client_info.client_id}",
            headers={"Authorization": f"Bearer {app['registration_access_token']}"},
            timeout=10,
        )
        assert other.status_code == 401
        own = requests.get(
            app["registration_client_uri"],
            headers={"Authorization": f"Bearer {app['registration_access_token']}"},
            timeout=10,
        )
        assert own.status_code == 200 and own.json()["client_name"] == "Acceptance web app"

        # A registration flood from one address meets the throttle (20 per hour by default;
        # two registrations were made above).
        statuses = [
            register(
                base, {"redirect_uris": [callback], "token_endpoint_auth_method": "none"}
            ).status_code
            for _ in range(20)
        ]
        assert statuses.count(201) == 18 and statuses[-1] == 429
