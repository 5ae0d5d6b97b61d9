"""Signing out through the real pages of the running example project (OIDC RP-Initiated
Logout 1.0 and Back-Channel Logout 1.0), in headless Chromium:

- a person signs in and authorizes a web client registered with
  ``oauth_client create --post-logout-redirect-uri ... --backchannel-logout-uri ...``;
- the client sends them to /oidc/logout without an ID token: they confirm on the sign-out page
  and land on the registered URI with ``state``; the client's back-channel endpoint on
  127.0.0.1 receives a logout token for the session's ``sid``;
- they sign in again; the client sends them to /oidc/logout with ``id_token_hint``: no
  question is asked, they land on the registered URI with ``state``;
- an unregistered ``post_logout_redirect_uri`` leaves them on an error page.

Screenshots of the pages at 390 px and 1280 px wide are written to the directory named by
``SCREENSHOTS_DIR`` (``docs/screenshots/`` holds the committed ones), else to a temporary one.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.logout.rp import LogoutReceiver

from .conftest import manage, quickstart_server
from .test_authorization_code_flow import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    allow,
    authorization_url,
    callback_site,
    pkce_pair,
    sign_in,
)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
WIDTHS = {"mobile": 390, "desktop": 1280}


class LogoutServer(Server):
    def __init__(self, *args: Any, receiver: LogoutReceiver, logged_out: str) -> None:
        super().__init__(*args)
        self.receiver = receiver
        self.logged_out = logged_out

    def logout_url(self, **params: str) -> str:
        return self.metadata["end_session_endpoint"] + "?" + urllib.parse.urlencode(params)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LogoutServer]:
    tmp = tmp_path_factory.mktemp("example-logout")
    callback = callback_site()
    receiver = LogoutReceiver()
    logged_out = callback.url.replace("/callback", "/logged-out")
    with quickstart_server(tmp) as (base, _log):
        try:
            created = manage(
                tmp,
                "oauth_client",
                "create",
                "--name",
                "Photo Gallery",
                "--redirect-uri",
                callback.url,
                "--post-logout-redirect-uri",
                logged_out,
                "--backchannel-logout-uri",
                receiver.url,
                "--json",
                OAUTH_ISSUER=f"{base}/",
            )
            assert created.returncode == 0, created.stderr
            client = json.loads(created.stdout)
            yield LogoutServer(
                base,
                client["client_id"],
                client["client_secret"],
                callback,
                receiver=receiver,
                logged_out=logged_out,
            )
        finally:
            receiver.close()
            callback.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Any, directory: Path, name: str) -> None:
    """The page as a phone and a laptop show it (full page, so nothing is cut off)."""
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 844 if width < 800 else 800})
        page.screenshot(path=str(directory / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, label


def sign_in_and_authorize(server: LogoutServer, page: Any, *, first: bool) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    page.goto(authorization_url(server, challenge, state, nonce))
    sign_in(page)
    if first:
        allow(page)
    else:
        page.wait_for_selector("#done")  # consent is remembered
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
    assert params["state"] == state
    tokens = server.exchange(params["code"], verifier)
    claims = server.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)
    assert claims["sid"]
    return {"id_token": tokens["id_token"], "sid": claims["sid"]}


def landed(page: Any) -> tuple[str, dict[str, str]]:
    parts = urllib.parse.urlsplit(page.url)
    return (
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        dict(urllib.parse.parse_qsl(parts.query)),
    )


def logout_token_claims(server: LogoutServer, count: int) -> dict[str, Any]:
    request = server.receiver.wait_for(count)[count - 1]
    token = request["form"]["logout_token"][0]
    key = jwt.PyJWKClient(server.metadata["jwks_uri"]).get_signing_key_from_jwt(token)
    assert jwt.get_unverified_header(token)["typ"] == "logout+jwt"
    return dict(
        jwt.decode(
            token, key.key, algorithms=["RS256"], audience=server.client_id, issuer=server.issuer
        )
    )


@pytest.mark.browser
def test_sign_out_with_confirmation_and_with_id_token_hint(server, browser, shots):
    page = browser.new_page()

    # 1. Without an ID token the request cannot be tied to the person: they are asked.
    session = sign_in_and_authorize(server, page, first=True)
    page.goto(
        server.logout_url(
            client_id=server.client_id,
            post_logout_redirect_uri=server.logged_out,
            state="confirmed-state",
        )
    )
    page.wait_for_selector("button[name=decision][value=logout]")
    assert "Photo Gallery" in page.inner_text("main")
    screenshot(page, shots, "logout-confirm")
    page.click("button[name=decision][value=logout]")
    page.wait_for_url(server.logged_out + "*")
    assert landed(page) == (server.logged_out, {"state": "confirmed-state"})
    claims = logout_token_claims(server, 1)
    assert claims["sid"] == session["sid"] and claims["events"] == {EVENT: {}}
    assert "nonce" not in claims

    # Signed out for real: /authorize asks for a login again, and a new session has a new sid.
    # 2. With id_token_hint for this session: no question, straight back with state.
    session = sign_in_and_authorize(server, page, first=False)
    assert session["sid"] != claims["sid"]
    page.goto(
        server.logout_url(
            id_token_hint=session["id_token"],
            post_logout_redirect_uri=server.logged_out,
            state="hinted-state",
        )
    )
    page.wait_for_url(server.logged_out + "*")
    assert landed(page) == (server.logged_out, {"state": "hinted-state"})
    assert logout_token_claims(server, 2)["sid"] == session["sid"]


@pytest.mark.browser
def test_unregistered_redirect_is_an_error_page_and_pages_fit(server, browser, shots):
    page = browser.new_page()
    response = page.goto(
        server.logout_url(
            client_id=server.client_id,
            post_logout_redirect_uri="https://evil.example/",
            state="x",
        )
    )
    assert response is not None and response.status == 400
    assert urllib.parse.urlsplit(page.url).path == "/oidc/logout"
    assert "not registered" in page.inner_text("[role=alert]")
    screenshot(page, shots, "logout-error")

    page.goto(server.logout_url())  # nobody signed in, nowhere to return to
    page.wait_for_selector("[role=status]")
    screenshot(page, shots, "logout-done")
