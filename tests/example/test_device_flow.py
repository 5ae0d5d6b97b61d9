"""The device flow (RFC 8628) against the running example project, as a newcomer would try it:
a plain-HTTP device script (standard library only) that discovers the endpoints, a person who
signs in with Django's login form and approves at /activate (once without JavaScript, once in
headless Chromium driven by Playwright), and the device polling at the advertised interval."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest

from .conftest import manage, quickstart_server

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USERNAME, PASSWORD = "demo", "demo-password-123"  # the quickstart's documented demo user
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Device:
    """What a TV app does (RFC 8628 §3.1-3.5), with nothing but the standard library."""

    def __init__(self, issuer: str, client_id: str, client_secret: str):
        self.metadata = self.get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        self.basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.polls: list[str] = []

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

    def redeem(self, device_code: str) -> tuple[int, Any]:
        return self.post(
            self.metadata["token_endpoint"],
            {"grant_type": DEVICE_GRANT, "device_code": device_code},
        )

    def poll(self, started: dict[str, Any], while_pending: Callable[[], None]) -> tuple[int, Any]:
        """Poll every ``interval`` seconds (5 s more after ``slow_down``) until the answer
        is not pending; ``while_pending`` runs after the first pending answer."""
        interval = started["interval"]
        deadline = time.monotonic() + started["expires_in"]
        while time.monotonic() < deadline:
            status, body = self.redeem(started["device_code"])
            error = body.get("error") if status == 400 else None
            self.polls.append(error or str(status))
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                return status, body
            if error == "authorization_pending" and self.polls.count(error) == 1:
                while_pending()
            time.sleep(interval)
        raise AssertionError("the device code expired while polling")


class Person:
    """A person's browser without JavaScript: cookies, forms and redirects."""

    def __init__(self) -> None:
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, url: str) -> tuple[str, str]:
        with self.opener.open(url, timeout=10) as response:
            return response.geturl(), response.read().decode()

    def submit(self, url: str, html: str, fields: dict[str, str]) -> tuple[str, str]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token, "the form carries a CSRF token"
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields})
        request = urllib.request.Request(url, data=data.encode(), headers={"Referer": url})
        with self.opener.open(request, timeout=10) as response:
            return response.geturl(), response.read().decode()


class Server:
    def __init__(self, base: str, client_id: str, client_secret: str):
        self.base = base
        self.issuer = base + "/"
        self.client_id = client_id
        self.client_secret = client_secret


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """``manage.py quickstart`` (demo user, API, keys) plus a device client created with
    ``manage.py oauth_client create --grant-type <device grant> --json``."""
    tmp = tmp_path_factory.mktemp("example-device")
    with quickstart_server(tmp) as (base, _log):
        created = manage(
            tmp,
            "oauth_client",
            "create",
            "--name",
            "Living-room TV",
            "--grant-type",
            DEVICE_GRANT,
            "--json",
            OAUTH_ISSUER=f"{base}/",
        )
        assert created.returncode == 0, created.stderr
        client = json.loads(created.stdout)
        yield Server(base, client["client_id"], client["client_secret"])


def test_device_script_gets_tokens_after_the_person_approves_without_javascript(server):
    device = Device(server.issuer, server.client_id, server.client_secret)
    started = device.start("openid read:things", "https://api.example.com")
    assert started["verification_uri"] == server.base + "/activate"
    person = Person()

    def person_approves() -> None:
        url, html = person.get(started["verification_uri_complete"])
        assert urllib.parse.urlsplit(url).path == "/accounts/login/"
        url, html = person.submit(url, html, {"username": USERNAME, "password": PASSWORD})
        assert urllib.parse.urlsplit(url).path == "/activate"
        assert started["user_code"] in html
        _, html = person.submit(
            server.base + "/activate",
            html,
            {"user_code": started["user_code"], "decision": "allow"},
        )
        assert "Device connected" in html

    status, body = device.poll(started, person_approves)
    assert status == 200, body
    assert device.polls[0] == "authorization_pending"
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid read:things"
    signing_key = jwt.PyJWKClient(device.metadata["jwks_uri"]).get_signing_key_from_jwt(
        body["access_token"]
    )
    claims = jwt.decode(
        body["access_token"],
        signing_key.key,
        algorithms=["RS256"],
        issuer=server.issuer,
        options={"verify_aud": False},
    )
    assert claims["client_id"] == server.client_id
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert "https://api.example.com" in aud
    whoami = urllib.request.Request(
        server.base + "/api/whoami", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    with urllib.request.urlopen(whoami, timeout=10) as response:
        assert json.loads(response.read())["sub"] == claims["sub"]

    status, body = device.redeem(started["device_code"])
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.fixture
def page() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def sign_in(page: Any) -> None:
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")


@pytest.mark.browser
def test_person_in_chromium_opens_the_complete_uri_signs_in_and_allows(server, page):
    device = Device(server.issuer, server.client_id, server.client_secret)
    started = device.start("openid read:things", "https://api.example.com")
    assert device.redeem(started["device_code"])[1]["error"] == "authorization_pending"

    page.goto(started["verification_uri_complete"])
    sign_in(page)
    page.wait_for_selector("button[name=decision][value=allow]")
    assert page.inner_text("#user-code") == started["user_code"]
    assert "Living-room TV" in page.inner_text("h1")
    assert "read:things" in page.inner_text("ul[aria-label='Requested permissions']")
    page.click("button[name=decision][value=allow]")
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Device connected"

    status, body = device.redeem(started["device_code"])
    assert status == 200, body
    assert body["scope"] == "openid read:things"


@pytest.mark.browser
def test_person_in_chromium_types_the_code_loosely_and_denies(server, page):
    device = Device(server.issuer, server.client_id, server.client_secret)
    started = device.start("openid", "https://api.example.com")

    page.goto(started["verification_uri"])
    sign_in(page)
    page.wait_for_selector("input[name=user_code]")
    page.fill("input[name=user_code]", "AAAA-AAAA")  # A is not in the user-code alphabet
    page.click("button[type=submit]")
    page.wait_for_selector("#activate-error")
    assert "not valid" in page.inner_text("#activate-error")

    page.fill("input[name=user_code]", started["user_code"].replace("-", " ").lower())
    page.click("button[type=submit]")
    page.wait_for_selector("button[name=decision][value=deny]")
    assert page.inner_text("#user-code") == started["user_code"]
    page.click("button[name=decision][value=deny]")
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Access denied"

    status, body = device.redeem(started["device_code"])
    assert (status, body["error"]) == (400, "access_denied")
