"""The pages people see, in headless Chromium (Playwright), at phone and desktop width,
against the running example project: sign-in (with a wrong password first), consent with
"Not you? Sign out", /activate and its result, the error page and the signed-out page.

Each page is checked the way a person with a keyboard or a screen reader meets it (every field
has a label, Tab reaches the fields and buttons in reading order, text contrast is at least
WCAG AA's 4.5:1, nothing is wider than the screen) and photographed; with
``OAUTH_TOKEN_SCREENSHOTS=docs/screenshots`` the pictures are kept there (the ones committed
in docs/screenshots/ were taken so)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, manage, quickstart_server
from .test_authorization_code_flow import CHROMIUM_ARGS, callback_site, pkce_pair
from .test_device_flow import Device

pytestmark = pytest.mark.browser

USERNAME, PASSWORD = "demo", "demo-password-123"  # the quickstart's documented demo user
API = "https://api.example.com"
CHROMIUM = shutil.which("chromium")
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}

# Contrast of every visible text element against the nearest opaque background (WCAG 2.2 1.4.3).
CONTRAST_JS = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.offsetParent && el.tagName !== 'BODY') continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < 4.5) worst.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return worst;
}"""

UNLABELLED_JS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), button, select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.textContent || '').trim())
  .map(el => el.outerHTML.slice(0, 80))"""


class Shots:
    """Where the pictures go: tmp, and docs/screenshots/ when asked."""

    def __init__(self, tmp: Path):
        keep = os.environ.get("OAUTH_TOKEN_SCREENSHOTS")
        self.dirs = [tmp] + ([ROOT / keep] if keep else [])
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page: Any, name: str, size: str) -> None:
        assert_usable(page, WIDTHS[size]["width"])
        page.evaluate("document.activeElement && document.activeElement.blur()")
        for d in self.dirs:
            path = d / f"{name}-{size}.png"
            page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)


def assert_usable(page: Any, width: int) -> None:
    """Readable and operable: labels, contrast, no horizontal scrolling, a visible h1."""
    assert page.evaluate(UNLABELLED_JS) == []
    assert page.evaluate(CONTRAST_JS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("h1").count() == 1
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16


def tab_order(page: Any, steps: int) -> list[str]:
    """What keyboard focus lands on, Tab after Tab from the top of the page."""
    page.click("header")  # the sequential-focus starting point: the top of the page
    order = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.name || e.id || e.textContent.trim(); })()"
            )
        )
    return order


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("pages")
    callback = callback_site()
    with quickstart_server(tmp) as (base, _log):
        try:
            env = {"OAUTH_ISSUER": f"{base}/"}
            web = manage(
                tmp,
                "oauth_client",
                "create",
                "--name",
                "Photo Gallery",
                "--redirect-uri",
                callback.url,
                "--json",
                **env,
            )
            tv = manage(
                tmp,
                "oauth_client",
                "create",
                "--name",
                "Living-room TV",
                "--grant-type",
                "urn:ietf:params:oauth:grant-type:device_code",
                "--json",
                **env,
            )
            legacy = manage(
                tmp,
                "oauth_client",
                "create",
                "--name",
                "Legacy app with a long name",
                "--grant-type",
                "password",
                "refresh_token",
                "--json",
                **env,
            )
            admin = manage(
                tmp,
                "createsuperuser",
                "--noinput",
                "--username",
                "admin",
                "--email",
                "admin@example.com",
                DJANGO_SUPERUSER_PASSWORD="admin-pw-123",
                **env,
            )
            assert web.returncode == 0 and tv.returncode == 0, web.stderr + tv.stderr
            assert legacy.returncode == 0 and admin.returncode == 0, legacy.stderr + admin.stderr
            yield {
                "base": base,
                "callback": callback,
                "web": json.loads(web.stdout),
                "tv": json.loads(tv.stdout),
                "legacy": json.loads(legacy.stdout),
                "shots": Shots(tmp / "shots"),
            }
        finally:
            callback.stop()


@contextmanager
def chromium_page(size: str) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_context(viewport=WIDTHS[size]).new_page()
            tab.size_name = size
            yield tab
        finally:
            browser.close()


@pytest.fixture(params=sorted(WIDTHS))
def page(request) -> Iterator[Any]:
    with chromium_page(request.param) as tab:
        yield tab


@pytest.fixture
def desktop_page() -> Iterator[Any]:
    with chromium_page("desktop") as tab:
        yield tab


def authorize_url(site: dict[str, Any], **extra: str) -> str:
    _verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": site["web"]["client_id"],
        "redirect_uri": site["callback"].url,
        "scope": "openid profile email read:things",
        "audience": API,
        "state": "st",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{site['base']}/authorize?{urllib.parse.urlencode(query)}"


def sign_in(page: Any, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")  # the keyboard submits the form
    page.wait_for_load_state()


def test_sign_in_consent_and_not_you_sign_out(site, page):
    shots, size = site["shots"], page.size_name
    page.goto(authorize_url(site, login_hint=USERNAME, prompt="consent"))
    assert urllib.parse.urlsplit(page.url).path == "/accounts/login/"
    assert page.get_by_label("Username").input_value() == USERNAME  # login_hint
    assert tab_order(page, 3) == ["username", "password", "Sign in"]
    shots.take(page, "login", size)

    sign_in(page, "wrong-password")
    alert = page.get_by_role("alert")
    assert "correct username and password" in alert.inner_text()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    shots.take(page, "login-error", size)

    sign_in(page)
    page.wait_for_selector("button[name=decision][value=allow]")
    assert page.locator("h1").inner_text() == "Authorize Photo Gallery"
    permissions = page.get_by_role("list", name="Requested permissions").inner_text()
    assert "read:things" in permissions and "Your email address" in permissions
    assert tab_order(page, 3) == ["decision", "decision", "sign-out"]
    shots.take(page, "consent", size)

    page.get_by_role("button", name="Not you? Sign out").click()
    page.wait_for_selector("input[name=username]")
    assert urllib.parse.urlsplit(page.url).path == "/accounts/login/"
    sign_in(page)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_selector("#done")
    assert "code=" in page.url


def test_activate_and_its_result(site, page):
    shots, size = site["shots"], page.size_name
    device = Device(site["base"] + "/", site["tv"]["client_id"], site["tv"]["client_secret"])
    started = device.start("openid read:things", API)
    page.goto(site["base"] + "/activate")
    sign_in(page)
    page.wait_for_selector("input[name=user_code]")
    shots.take(page, "activate", size)

    page.get_by_label("Enter the code shown on your device").fill("WRONG-CODE")
    page.get_by_role("button", name="Continue").click()
    assert "not valid" in page.get_by_role("alert").inner_text()
    shots.take(page, "activate-error", size)

    page.get_by_label("Enter the code shown on your device").fill(started["user_code"])
    page.get_by_label("Enter the code shown on your device").press("Enter")
    page.wait_for_selector("#user-code")
    assert page.inner_text("#user-code") == started["user_code"]
    shots.take(page, "activate-consent", size)

    page.get_by_role("button", name="Allow").click()
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Device connected"
    shots.take(page, "activate-done", size)


def test_error_page_and_signed_out_page(site, page):
    shots, size = site["shots"], page.size_name
    page.goto(site["base"] + "/authorize?response_type=code&client_id=no-such-client")
    assert page.get_by_role("alert").is_visible()
    assert re.search(r"invalid_(client|request)", page.inner_text("main"))
    shots.take(page, "error", size)

    page.goto(site["base"] + "/accounts/login/")
    sign_in(page)
    page.goto(site["base"] + "/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "You are signed out"
    shots.take(page, "signed-out", size)


def test_admin_refresh_family_list_fits_a_1280_px_screen(site, desktop_page):
    """Issue 13: the list was wider than a laptop screen."""
    page = desktop_page
    legacy = site["legacy"]
    for _ in range(2):  # two families, each from a password grant with offline_access
        request = urllib.request.Request(
            site["base"] + "/oauth/token",
            data=urllib.parse.urlencode(
                {
                    "grant_type": "password",
                    "username": USERNAME,
                    "password": PASSWORD,
                    "audience": API,
                    "scope": "openid offline_access read:things write:things",
                }
            ).encode(),
            headers={
                "Authorization": "Basic "
                + base64.b64encode(
                    f"{legacy['client_id']}:{legacy['client_secret']}".encode()
                ).decode()
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert "refresh_token" in json.loads(response.read())
    page.goto(site["base"] + "/admin/login/?next=/admin/oauth_token/refreshtokenfamily/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pw-123")
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # The table itself, not only the page: the admin scrolls a too-wide list inside its box.
    table, box = page.evaluate(
        "[document.querySelector('#result_list').scrollWidth,"
        " document.querySelector('.results').clientWidth]"
    )
    assert table <= box, (table, box)
    for d in site["shots"].dirs:
        page.screenshot(path=str(d / "admin-refresh-families-desktop.png"), full_page=True)
