"""/activate in a real browser: headless Chromium (Debian's) driven by Playwright against a
live server. The device side speaks plain HTTP to the same server."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from oauth_token import keyring, provisioning

from .conftest import DEVICE_GRANT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)


def post_form(url: str, data: dict[str, str], auth: tuple[str, str]) -> tuple[int, Any]:
    import base64

    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(data).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode(),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def server(live_server, settings, django_user_model):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "ISSUER": live_server.url + "/"}
    keyring.rotate("RS256")
    api = provisioning.create_api(
        identifier="https://api.example.com", name="Example API", scopes=["read:things"]
    )
    scope = api.scopes.get(name="read:things")
    scope.description = "Read your things"
    scope.save()
    created = provisioning.create_client(name="Living-room TV", grant_types=[DEVICE_GRANT])
    django_user_model.objects.create_user("alice", password=PASSWORD)
    return live_server.url, (created.client.client_id, created.secret)


def start_device_flow(base: str, auth: tuple[str, str]) -> dict[str, Any]:
    status, body = post_form(
        f"{base}/oauth/device/code",
        {"scope": "openid read:things", "audience": "https://api.example.com"},
        auth,
    )
    assert status == 200, body
    return body


def poll(base: str, auth: tuple[str, str], device_code: str) -> tuple[int, Any]:
    return post_form(
        f"{base}/oauth/token", {"grant_type": DEVICE_GRANT, "device_code": device_code}, auth
    )


@pytest.fixture
def page():
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
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@needs_chromium
def test_person_opens_verification_uri_complete_signs_in_and_allows(server, page):
    base, auth = server
    flow = start_device_flow(base, auth)
    assert poll(base, auth, flow["device_code"])[1]["error"] == "authorization_pending"

    page.goto(flow["verification_uri_complete"])
    sign_in(page)
    page.wait_for_selector("button[name=decision][value=allow]")
    assert page.inner_text("#user-code") == flow["user_code"]
    assert "Living-room TV" in page.inner_text("h1")
    assert "Read your things" in page.inner_text("#scopes")
    page.click("button[name=decision][value=allow]")
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Device connected"

    status, body = poll(base, auth, flow["device_code"])
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid read:things"


@needs_chromium
def test_person_types_the_code_loosely_and_denies(server, page):
    base, auth = server
    flow = start_device_flow(base, auth)

    page.goto(flow["verification_uri"])
    sign_in(page)
    page.wait_for_selector("input[name=user_code]")
    page.fill("input[name=user_code]", "AAAA-AAAA")  # A is not in the user-code alphabet
    page.click("button[type=submit]")
    page.wait_for_selector("#activate-error")
    assert "not valid" in page.inner_text("#activate-error")

    page.fill("input[name=user_code]", flow["user_code"].replace("-", " ").lower())
    page.click("button[type=submit]")
    page.wait_for_selector("button[name=decision][value=deny]")
    assert page.inner_text("#user-code") == flow["user_code"]
    page.click("button[name=decision][value=deny]")
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Access denied"

    status, body = poll(base, auth, flow["device_code"])
    assert (status, body["error"]) == (400, "access_denied")
