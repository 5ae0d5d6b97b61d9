"""The device flow as an independent client does it: plain HTTP (urllib) against a live
server, discovering endpoints from metadata, a person signing in through Django's login form
and approving at /activate, the device polling at the advertised interval."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import jwt
import pytest

from oauth_token import keyring, provisioning

from .conftest import DEVICE_GRANT

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


class Device:
    """What a TV app does (RFC 8628 §3.1-3.5), with nothing but the standard library."""

    def __init__(self, issuer: str, client_id: str, client_secret: str):
        metadata = self.get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        self.metadata = metadata
        self.basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

    @staticmethod
    def get_json(url: str) -> Any:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def post(self, url: str, data: dict[str, str]) -> tuple[int, Any]:
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Authorization": f"Basic {self.basic}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def start(self, scope: str, audience: str) -> dict[str, Any]:
        status, body = self.post(
            self.metadata["device_authorization_endpoint"], {"scope": scope, "audience": audience}
        )
        assert status == 200, body
        return body

    def poll_until_done(self, started: dict[str, Any], on_pending: Any) -> tuple[int, Any]:
        interval = started["interval"]
        deadline = time.monotonic() + started["expires_in"]
        polls = 0
        while time.monotonic() < deadline:
            status, body = self.post(
                self.metadata["token_endpoint"],
                {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]},
            )
            polls += 1
            if status == 400 and body["error"] == "authorization_pending":
                on_pending(polls)
            elif status == 400 and body["error"] == "slow_down":
                interval += 5
            else:
                return status, body
            time.sleep(interval)
        raise AssertionError("device code expired while polling")


class Person:
    """A person's browser without JavaScript: cookies, forms and redirects."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[str, str]:
        with self.opener.open(url, timeout=10) as response:
            return response.geturl(), response.read().decode()

    def submit(self, url: str, html: str, fields: dict[str, str]) -> tuple[str, str]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token, "the form carries a CSRF token"
        data = {"csrfmiddlewaretoken": token.group(1), **fields}
        request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode())
        request.add_header("Referer", url)
        with self.opener.open(request, timeout=10) as response:
            return response.geturl(), response.read().decode()


@pytest.fixture
def server(live_server, settings, django_user_model):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "ISSUER": live_server.url + "/",
        "DEVICE_CODE_INTERVAL": 1,
    }
    keyring.rotate("RS256")
    provisioning.create_api(
        identifier="https://api.example.com", name="Example API", scopes=["read:things"]
    )
    created = provisioning.create_client(name="Living-room TV", grant_types=[DEVICE_GRANT])
    django_user_model.objects.create_user("alice", password=PASSWORD)
    assert created.secret is not None
    return live_server.url + "/", created.client.client_id, created.secret


def test_device_flow_script_gets_tokens_after_a_person_approves(server):
    issuer, client_id, secret = server
    device = Device(issuer, client_id, secret)
    started = device.start("openid read:things", "https://api.example.com")
    person = Person()

    def person_approves(polls: int) -> None:
        if polls != 1:
            return
        url, html = person.get(started["verification_uri_complete"])
        assert "/accounts/login/" in url
        url, html = person.submit(url, html, {"username": "alice", "password": PASSWORD})
        assert urllib.parse.urlsplit(url).path == "/activate"
        assert started["user_code"] in html
        url, html = person.submit(
            url.split("?")[0], html, {"user_code": started["user_code"], "decision": "allow"}
        )
        assert "Device connected" in html

    status, body = device.poll_until_done(started, person_approves)
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid read:things"

    jwks = jwt.PyJWKClient(device.metadata["jwks_uri"])
    key = jwks.get_signing_key_from_jwt(body["access_token"])
    claims = jwt.decode(
        body["access_token"], key.key, algorithms=["RS256"], options={"verify_aud": False}
    )
    assert claims["iss"] == issuer
    assert claims["client_id"] == client_id

    status, body = device.post(
        device.metadata["token_endpoint"],
        {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]},
    )
    assert (status, body["error"]) == (400, "invalid_grant")
