"""The authorization code flow against the running example project, as a newcomer tries it:
``manage.py quickstart``, a web client created with ``manage.py oauth_client create``, a
callback server on 127.0.0.1, and

- a person in headless Chromium (Playwright) who signs in with Django's login form, consents,
  and is sent back with a code that the client exchanges for tokens whose ID token validates
  against the published JWKS (query and form_post response modes);
- Authlib's ``OAuth2Session`` doing authorization_code + PKCE and then a refresh, with nothing
  but its documented API (the person's part done by a cookie-keeping HTTP client).
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from html import unescape
from typing import Any

import jwt
import pytest

from tests.stub_server import LocalSite

from .conftest import manage, quickstart_server

USERNAME, PASSWORD = "demo", "demo-password-123"  # the quickstart's documented demo user
API = "https://api.example.com"
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


SIGNED_IN = b"<!DOCTYPE html><title>Signed in</title><p id=done>Signed in</p>"


def callback_site() -> LocalSite:
    """The client's redirect_uri: records every request (GET query or form_post body)."""
    return LocalSite(html=SIGNED_IN, path="/callback").start()


class Server:
    def __init__(self, base: str, client_id: str, client_secret: str, callback: LocalSite):
        self.base = base
        self.issuer = base + "/"
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback = callback
        with urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=10) as r:
            self.metadata = json.loads(r.read())

    def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        data = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.callback.url,
                "code_verifier": verifier,
            }
        ).encode()
        request = urllib.request.Request(
            self.metadata["token_endpoint"], data=data, headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def get_json(self, url: str, token: str) -> Any:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def verify_id_token(self, id_token: str, access_token: str, nonce: str) -> dict[str, Any]:
        """What a relying party does (OIDC Core §3.1.3.7), with PyJWT and the JWKS."""
        key = jwt.PyJWKClient(self.metadata["jwks_uri"]).get_signing_key_from_jwt(id_token)
        claims = jwt.decode(
            id_token,
            key.key,
            algorithms=self.metadata["id_token_signing_alg_values_supported"],
            audience=self.client_id,
            issuer=self.issuer,
        )
        assert claims["nonce"] == nonce
        digest = hashlib.sha256(access_token.encode()).digest()
        assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        return claims


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("example-authorization-code")
    callback = callback_site()
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
                "--json",
                OAUTH_ISSUER=f"{base}/",
            )
            assert created.returncode == 0, created.stderr
            client = json.loads(created.stdout)
            yield Server(base, client["client_id"], client["client_secret"], callback)
        finally:
            callback.stop()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(server: Server, challenge: str, state: str, nonce: str, **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": server.client_id,
        "redirect_uri": server.callback.url,
        "scope": "openid profile email read:things",
        "audience": API,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return server.metadata["authorization_endpoint"] + "?" + urllib.parse.urlencode(query)


# --- a person in Chromium ---------------------------------------------------------------------


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
    page.wait_for_selector("input[name=username]")
    assert urllib.parse.urlsplit(page.url).path == "/accounts/login/"
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")


def allow(page: Any) -> None:
    page.wait_for_selector("button[name=decision][value=allow]")
    assert "Photo Gallery" in page.inner_text("h1")
    permissions = page.inner_text("ul[aria-label='Requested permissions']")
    for scope in ("openid", "profile", "email", "read:things"):
        assert scope in permissions
    page.click("button[name=decision][value=allow]")
    page.wait_for_selector("#done")


@pytest.mark.browser
def test_person_signs_in_consents_and_the_code_becomes_tokens(server, page):
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    page.goto(authorization_url(server, challenge, state, nonce))
    sign_in(page)
    allow(page)

    landed = urllib.parse.urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == server.callback.url
    params = dict(urllib.parse.parse_qsl(landed.query))
    assert params["state"] == state and params["iss"] == server.issuer
    tokens = server.exchange(params["code"], verifier)
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "openid profile email read:things"
    claims = server.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)
    assert claims["preferred_username"] == USERNAME
    assert claims["email"] == "demo@example.com"
    whoami = server.get_json(server.base + "/api/whoami", tokens["access_token"])
    assert whoami["sub"] == claims["sub"] and whoami["client_id"] == server.client_id
    userinfo = server.get_json(server.metadata["userinfo_endpoint"], tokens["access_token"])
    assert userinfo["sub"] == claims["sub"] and userinfo["preferred_username"] == USERNAME

    # Consent is remembered: the next authorization goes straight back with a code.
    verifier, challenge = pkce_pair()
    page.goto(authorization_url(server, challenge, "second", nonce))
    page.wait_for_selector("#done")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
    assert params["state"] == "second"
    assert server.exchange(params["code"], verifier)["access_token"]


@pytest.mark.browser
def test_form_post_is_submitted_by_the_browser(server, page):
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    before = len(server.callback.requests)
    page.goto(
        authorization_url(
            server, challenge, state, nonce, response_mode="form_post", prompt="consent"
        )
    )
    sign_in(page)
    allow(page)  # the consent form posts, and the answer is a form the browser posts on
    method, _path, fields = server.callback.requests[before]
    assert method == "POST"
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == state and fields["iss"] == server.issuer
    tokens = server.exchange(fields["code"], verifier)
    server.verify_id_token(tokens["id_token"], tokens["access_token"], nonce)


# --- Authlib's OAuth2Session --------------------------------------------------------------------


class Person:
    """A browser without JavaScript: cookies, redirects and the forms' hidden fields."""

    def __init__(self) -> None:
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, url: str) -> tuple[str, str]:
        with self.opener.open(url, timeout=10) as response:
            return response.geturl(), response.read().decode()

    def submit(self, page_url: str, html: str, fields: dict[str, str]) -> tuple[str, str]:
        form = re.search(r'<form method="post"(?: action="([^"]*)")?', html)
        assert form, html
        action = urllib.parse.urljoin(page_url, unescape(form.group(1) or page_url))
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        data = {k: unescape(v) for k, v in hidden.items()} | fields
        request = urllib.request.Request(
            action, data=urllib.parse.urlencode(data).encode(), headers={"Referer": page_url}
        )
        with self.opener.open(request, timeout=10) as response:
            return response.geturl(), response.read().decode()


def test_authlib_oauth2_session_with_pkce_then_refresh(server):
    pytest.importorskip("authlib", reason="authlib is a test dependency (pip install -e .[test])")
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey
    from authlib.jose import jwt as authlib_jwt
    from authlib.oidc.core import CodeIDToken

    session = OAuth2Session(
        server.client_id,
        server.client_secret,
        scope="openid profile offline_access read:things",
        redirect_uri=server.callback.url,
        code_challenge_method="S256",
    )
    verifier, nonce = generate_token(48), generate_token(16)
    url, _state = session.create_authorization_url(
        server.metadata["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        audience=API,
    )

    person = Person()
    page_url, html = person.get(url)
    assert urllib.parse.urlsplit(page_url).path == "/accounts/login/"
    page_url, html = person.submit(page_url, html, {"username": USERNAME, "password": PASSWORD})
    assert "Photo Gallery" in html
    callback_url, _ = person.submit(page_url, html, {"decision": "allow"})
    assert callback_url.startswith(server.callback.url + "?")

    token = session.fetch_token(
        server.metadata["token_endpoint"],
        authorization_response=callback_url,
        code_verifier=verifier,
    )
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"openid", "profile", "offline_access", "read:things"}
    assert token["refresh_token"]

    jwks = JsonWebKey.import_key_set(session.get(server.metadata["jwks_uri"]).json())
    id_token = authlib_jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"values": [server.issuer]}},
        claims_params={
            "nonce": nonce,
            "client_id": server.client_id,
            "access_token": token["access_token"],
        },
    )
    id_token.validate()
    assert id_token["preferred_username"] == USERNAME

    userinfo = session.get(server.metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == id_token["sub"]

    refreshed = session.refresh_token(server.metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    whoami = session.get(server.base + "/api/whoami")
    assert whoami.status_code == 200
    assert whoami.json()["sub"] == id_token["sub"]
