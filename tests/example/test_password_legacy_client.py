"""The password grant tried as a newcomer would: the example project started with
``manage.py quickstart``, a client created with ``manage.py oauth_client create --grant-type
password``, and requests-oauthlib's ``LegacyApplicationClient`` over plain HTTP on 127.0.0.1,
its token then used on the demo API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient
from requests_oauthlib import OAuth2Session

from .conftest import manage, quickstart_server

USERNAME, PASSWORD = "demo", "demo-password-123"  # the quickstart's documented demo user
API = "https://api.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[tuple[str, str, str]]:
    """(base URL, client_id, client_secret) of a running example project."""
    tmp: Path = tmp_path_factory.mktemp("example-password")
    with quickstart_server(tmp) as (base, _log):
        created = manage(
            tmp,
            "oauth_client",
            "create",
            "--name",
            "Legacy CLI",
            "--grant-type",
            "password",
            "--json",
            OAUTH_ISSUER=f"{base}/",
        )
        assert created.returncode == 0, created.stderr
        client = json.loads(created.stdout)
        yield base, client["client_id"], client["client_secret"]


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def test_legacy_application_client_logs_in_and_calls_the_demo_api(server):
    base, client_id, secret = server
    metadata = requests.get(base + "/.well-known/openid-configuration", timeout=10).json()
    assert "password" in metadata["grant_types_supported"]
    oauth = OAuth2Session(client=LegacyApplicationClient(client_id=client_id))
    token = oauth.fetch_token(
        token_url=metadata["token_endpoint"],
        username=USERNAME,
        password=PASSWORD,
        client_id=client_id,
        client_secret=secret,
        scope=["read:things"],
        audience=API,
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["read:things"]
    whoami = oauth.get(base + "/api/whoami", timeout=10)
    assert whoami.status_code == 200, whoami.text
    assert whoami.json()["client_id"] == client_id
    assert "read:things" in str(whoami.json()["scope"])

    with pytest.raises(InvalidGrantError) as wrong:
        OAuth2Session(client=LegacyApplicationClient(client_id=client_id)).fetch_token(
            token_url=metadata["token_endpoint"],
            username=USERNAME,
            password="not-the-password",
            client_id=client_id,
            client_secret=secret,
            audience=API,
        )
    assert wrong.value.description == "Wrong email or password."
