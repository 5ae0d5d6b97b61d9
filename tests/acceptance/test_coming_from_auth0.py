"""Acceptance (issue 14): a team moving from Auth0 sets up RBAC, per-client lifetimes and
changes its configuration with the update commands only, against a running server.

The example project runs as a separate process (``manage.py quickstart``) and every change is
made by ``manage.py`` commands in other processes, as an operator would; the two share a
file-based cache so that a command's change reaches the running server at once, as Redis does
in production.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.example.conftest import MANAGE, _wait_until_serving, example_env, free_port

API = "https://api.example.com"
USER, PASSWORD = "demo", "demo-password-123"  # the quickstart's demo user


class Operator:
    """``manage.py`` in the example project, sharing the server's database and cache."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.tmp_path, self.env = tmp_path, env

    def __call__(self, *argv: str) -> Any:
        done = subprocess.run(
            [sys.executable, str(MANAGE), *argv, "--json"],
            env=self.env,
            cwd=self.tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def fails(self, *argv: str) -> str:
        done = subprocess.run(
            [sys.executable, str(MANAGE), *argv],
            env=self.env,
            cwd=self.tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode != 0 and done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        return lines[0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Operator]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The operator expects each change on the very next request, so the server checks the shared
    # cache's change generation on every request instead of within the default 1 s bound.
    env = example_env(
        tmp_path,
        OAUTH_ISSUER=f"{base}/",
        CACHE_URL=f"filecache://{tmp_path / 'cache'}",
        OAUTH_CHANGE_CHECK_INTERVAL="0",
    )
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "quickstart", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait_until_serving(process, base, log)
        yield base, Operator(tmp_path, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(url: str, data: dict[str, str], client: dict[str, str]) -> tuple[int, dict[str, Any]]:
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode())
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(data).encode(),
        headers={
            "Authorization": f"Basic {basic.decode()}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(url: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_rbac_lifetimes_and_update_commands_end_to_end(server):
    base, operator = server
    token_url = f"{base}/oauth/token"

    # The API: RBAC with permissions in the token, one more scope (update replaces the list).
    api = operator(
        "oauth_api",
        "update",
        API,
        "--rbac",
        "--permissions-in-token",
        "--scope",
        "read:things write:things delete:things",
    )
    assert (api["rbac"], api["permissions_in_token"]) == (True, True)
    assert api["scopes"] == ["delete:things", "read:things", "write:things"]
    operator(
        "oauth_role", "create", "--name", "reader", "--api", API, "--permission", "read:things"
    )
    operator(
        "oauth_role", "create", "--name", "editor", "--api", API, "--permission", "write:things"
    )
    operator("oauth_role", "assign", "reader", "--user", USER)
    operator("oauth_role", "assign", "editor", "--user", USER)
    assert "No role named 'admin'" in operator.fails(
        "oauth_role", "assign", "admin", "--user", USER
    )
    assert "has no scope(s): fly" in operator.fails(
        "oauth_role", "create", "--name", "x", "--api", API, "--permission", "fly"
    )

    # An application with its own lifetimes, and a resource server that may introspect.
    app = operator(
        "oauth_client",
        "create",
        "--name",
        "Legacy app",
        "--grant-type",
        "password",
        "refresh_token",
        "--access-token-lifetime",
        "120",
        "--refresh-token-lifetime",
        "3600",
        "--refresh-idle-lifetime",
        "600",
    )
    rs = operator(
        "oauth_client",
        "create",
        "--name",
        "Resource server",
        "--grant-type",
        "client_credentials",
        "--can-introspect",
    )

    before = int(time.time())
    status, body = post(
        token_url,
        {
            "grant_type": "password",
            "username": USER,
            "password": PASSWORD,
            "audience": API,
            "scope": "read:things write:things delete:things offline_access",
        },
        app,
    )
    assert status == 200, body
    assert body["scope"] == "read:things write:things offline_access"
    assert body["expires_in"] == 120
    access = claims(body["access_token"])
    assert access["exp"] - access["iat"] == 120
    assert access["permissions"] == ["read:things", "write:things"]
    status, whoami = get(f"{base}/api/whoami", body["access_token"])
    assert status == 200, whoami
    assert whoami["permissions"] == ["read:things", "write:things"]

    # Introspection agrees: the access token's exp, the refresh token's idle expiry.
    _, seen = post(f"{base}/oauth/introspect", {"token": body["access_token"]}, rs)
    assert seen["active"] is True and seen["exp"] == access["exp"]
    assert seen["permissions"] == ["read:things", "write:things"]
    _, seen = post(f"{base}/oauth/introspect", {"token": body["refresh_token"]}, rs)
    assert seen["active"] is True
    assert before + 600 - 5 <= seen["exp"] <= int(time.time()) + 600 + 5

    # The operator takes a role away and shortens the app's tokens; the next refresh obeys.
    operator("oauth_role", "unassign", "editor", "--user", USER)
    updated = operator("oauth_client", "update", app["client_id"], "--access-token-lifetime", "60")
    assert updated["access_token_lifetime"] == 60 and updated["refresh_idle_lifetime"] == 600
    status, refreshed = post(
        token_url, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, app
    )
    assert status == 200, refreshed
    assert refreshed["scope"] == "read:things offline_access"
    assert refreshed["expires_in"] == 60
    assert claims(refreshed["access_token"])["permissions"] == ["read:things"]

    # RBAC off: no permissions claim; the family's original grant applies again.
    operator("oauth_api", "update", API, "--no-rbac", "--no-permissions-in-token")
    status, plain = post(
        token_url, {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]}, app
    )
    assert status == 200, plain
    assert plain["scope"] == "read:things write:things offline_access"
    assert "permissions" not in claims(plain["access_token"])

    # Bad input to the update commands: one line, non-zero, nothing changed.
    assert "No client with client_id" in operator.fails(
        "oauth_client", "update", "nope", "--name", "x"
    )
    assert "--token-lifetime" in operator.fails("oauth_api", "update", API, "--token-lifetime", "0")
    assert operator("oauth_api", "list")[0]["token_lifetime"] == 86400
