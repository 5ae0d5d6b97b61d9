"""Attacks on /oidc/logout (OIDC RP-Initiated Logout 1.0 §3, §7):

- **Open redirect through post_logout_redirect_uri.** The end-session endpoint is reachable by
  any link, so if it followed a URI that is not exactly one the client registered, it would be
  a redirector for phishing. Every near-miss below must end on an error page, with no
  ``Location`` header, and leave the person signed in and the database as it was.
- **SSRF through backchannel_logout_uri.** A registered URI naming an internal address must
  not make this server POST into its own network.
- **Forged id_token_hint.** A hint is what lets a logout skip the confirmation page, so a hint
  this server did not sign (another key, ``alg: none``, HMAC with the public key) must be
  refused rather than log the person out.
"""

from __future__ import annotations

import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from oauth_token.registry import keyring
from tests import kit
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import ISSUER, oauth_settings_with
from tests.logout.fixtures import *  # noqa: F403
from tests.logout.fixtures import LOGGED_OUT, is_signed_in, logout_url
from tests.logout.rp import logout_receiver

pytestmark = pytest.mark.django_db

NEAR_MISSES = [
    "https://evil.example/",
    LOGGED_OUT + "/",
    LOGGED_OUT + "/../../evil",
    LOGGED_OUT + ".evil.example",
    LOGGED_OUT + "?next=https://evil.example/",
    LOGGED_OUT + "#fragment",
    LOGGED_OUT.upper(),
    LOGGED_OUT.replace("https://", "http://"),
    LOGGED_OUT.replace("app.example.com", "app.example.com@evil.example"),
    LOGGED_OUT.replace("/logged-out", "/logged%2Dout"),
    " " + LOGGED_OUT,
    LOGGED_OUT + "\t",
    "//evil.example/logged-out",
    "javascript:alert(document.cookie)",
    "https://other-app.example/registered-by-another-client",
]


def assert_refused_without_redirect(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert not response.has_header("Location")
    assert "not registered" in response.content.decode()


@pytest.mark.parametrize("uri", NEAR_MISSES)
def test_open_redirect_via_unregistered_post_logout_redirect_uri_with_a_valid_hint(
    browser, rp_client, sign_in_with, unchanged, uri
):
    rp_client("Other", post_logout_redirect_uris=[NEAR_MISSES[-1]])
    signed_in = sign_in_with(*rp_client())
    unchanged()
    response = browser.get(
        logout_url(id_token_hint=signed_in.id_token, post_logout_redirect_uri=uri, state="s")
    )
    assert_refused_without_redirect(response)
    assert is_signed_in(browser)


@pytest.mark.parametrize("uri", NEAR_MISSES)
def test_open_redirect_via_unregistered_post_logout_redirect_uri_when_signed_out(
    rp_client, client, uri
):
    app, _ = rp_client()
    rp_client("Other", post_logout_redirect_uris=[NEAR_MISSES[-1]])
    for method in (client.get, client.post):
        response = method(
            "/oidc/logout",
            {"client_id": app.client_id, "post_logout_redirect_uri": uri, "state": "s"},
        )
        assert_refused_without_redirect(response)


def test_open_redirect_via_the_confirmation_form(browser, rp_client):
    """The confirmation page is not a way round the check: its answer re-validates the
    stored request, so a URI removed from the registration in between is not followed."""
    app, _ = rp_client()
    response = browser.get(logout_url(client_id=app.client_id, post_logout_redirect_uri=LOGGED_OUT))
    transaction = response.content.decode().split('name="transaction" value="')[1].split('"')[0]
    app.post_logout_redirect_uris = []
    app.save()
    answer = browser.post(
        "/oidc/logout/confirm", {"transaction": transaction, "decision": "logout"}
    )
    assert_refused_without_redirect(answer)
    assert is_signed_in(browser)


def test_open_redirect_without_identifying_a_client(browser, client, db):
    for session in (browser, client):
        response = session.get(logout_url(post_logout_redirect_uri=LOGGED_OUT))
        assert response.status_code == 400 and not response.has_header("Location")


def _claims(user, client, sid):
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": str(user.pk),
        "aud": client.client_id,
        "iat": now,
        "exp": now + 600,
        "sid": sid,
    }


@pytest.fixture
def forged_hints(browser, rp_client, sign_in_with, user):
    signed_in = sign_in_with(*rp_client())
    claims = _claims(user, signed_in.client, signed_in.claims["sid"])
    kid = jwt.get_unverified_header(signed_in.id_token)["kid"]
    attacker = kit.rsa_keypair(kid=kid)
    _, public = keyring.verification_key(kid)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "attacker-key-same-kid": jwt.encode(
            claims, attacker.private, "RS256", headers={"kid": kid}
        ),
        "alg-none": kit.unsigned_jwt({"alg": "none", "kid": kid, "typ": "JWT"}, claims),
        "hmac-with-public-key": kit.hmac_signed_jwt(
            {"alg": "HS256", "kid": kid, "typ": "JWT"}, claims, pem
        ),
        "logout-token-as-hint": keyring.sign(
            {**claims, "events": {"http://schemas.openid.net/event/backchannel-logout": {}}},
            alg="RS256",
            typ="logout+jwt",
        ),
        "wrong-issuer": keyring.sign({**claims, "iss": "https://evil.example/"}, typ="JWT"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "attacker-key-same-kid",
        "alg-none",
        "hmac-with-public-key",
        "logout-token-as-hint",
        "wrong-issuer",
    ],
)
def test_forged_id_token_hint_cannot_log_the_person_out(browser, forged_hints, unchanged, kind):
    unchanged()
    response = browser.get(
        logout_url(id_token_hint=forged_hints[kind], post_logout_redirect_uri=LOGGED_OUT)
    )
    assert response.status_code == 400 and not response.has_header("Location")
    assert "id_token_hint" in response.content.decode()
    assert is_signed_in(browser)


def test_ssrf_via_backchannel_logout_uri_to_an_internal_address(
    browser, rp_client, sign_in_with, settings, caplog, django_capture_on_commit_callbacks
):
    """A client that registers ``http://127.0.0.1:.../`` as its back-channel logout URI must
    not make this server POST to its own network: the guarded outbound module refuses private
    addresses (unless OUTBOUND_ALLOW_PRIVATE_ADDRESSES), and the refusal is a failure event."""
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver() as internal:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=internal.url))
        settings.OAUTH_TOKEN = oauth_settings_with(
            OUTBOUND_ALLOW_PRIVATE_ADDRESSES=False, BACKCHANNEL_LOGOUT_RETRY_DELAY=0
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.get(logout_url(id_token_hint=signed_in.id_token))
        assert response.status_code == 200 and not is_signed_in(browser)

        def failures() -> list[logging.LogRecord]:
            return [
                r
                for r in caplog.records
                if getattr(r, "oauth_event", "") == "backchannel_logout_failed"
            ]

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not failures():
            time.sleep(0.02)
        [failed] = failures()
        assert failed.oauth_client_id == signed_in.client.client_id
        assert internal.received == []
