"""Back-channel logout (OIDC Back-Channel Logout 1.0): when a session ends, every client that
took part in it and registered a ``backchannel_logout_uri`` receives a signed logout token,
after commit, from a background thread with bounded retries; failures are events."""

from __future__ import annotations

import logging

import jwt
import pytest

from oauth_token import signals
from oauth_token.models import RefreshTokenFamily
from tests.authorize.helpers import API, oauth_settings_with
from tests.logout.fixtures import decode, is_signed_in, logout_url, session_sid
from tests.logout.rp import logout_receiver

pytestmark = pytest.mark.django_db
EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture(autouse=True)
def _no_retry_delay(settings):
    settings.OAUTH_TOKEN = oauth_settings_with(BACKCHANNEL_LOGOUT_RETRY_DELAY=0)


@pytest.fixture
def log_out(browser, django_capture_on_commit_callbacks):
    """Log the browser out through /oidc/logout with an ID token of this session, running what
    waits for the commit."""

    def run(id_token: str):
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.get(logout_url(id_token_hint=id_token))
        assert response.status_code == 200 and not is_signed_in(browser)
        return response

    return run


def events(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def wait_for_event(caplog, name: str) -> logging.LogRecord:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = events(caplog, name)
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no {name} event")


def test_participant_receives_a_logout_token(browser, rp_client, sign_in_with, log_out, user):
    with logout_receiver() as rp:
        client, secret = rp_client(backchannel_logout_uri=rp.url)
        signed_in = sign_in_with(client, secret)
        sid = session_sid(browser)
        log_out(signed_in.id_token)
        [request] = rp.wait_for(1)
    assert request["content_type"] == "application/x-www-form-urlencoded"
    token = request["form"]["logout_token"][0]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt" and header["kid"]
    claims = decode(token, client.client_id)
    assert claims["iss"] == signed_in.claims["iss"]
    assert claims["aud"] == client.client_id
    assert claims["sid"] == sid == signed_in.claims["sid"]
    assert claims["sub"] == str(user.pk)
    assert claims["events"] == {EVENT: {}}
    assert claims["jti"] and claims["iat"] <= claims["exp"]
    assert claims["exp"] - claims["iat"] == 120
    assert "nonce" not in claims


def test_only_participants_with_a_uri_are_notified(browser, rp_client, sign_in_with, log_out):
    with logout_receiver() as rp, logout_receiver() as bystander:
        a, a_secret = rp_client("A", backchannel_logout_uri=rp.url)
        b, b_secret = rp_client("B", backchannel_logout_uri=rp.url)
        rp_client("Not in the session", backchannel_logout_uri=bystander.url)
        no_uri = sign_in_with(*rp_client("No URI"))
        sign_in_with(a, a_secret)
        sign_in_with(b, b_secret)
        log_out(no_uri.id_token)
        tokens = rp.logout_tokens(2)
        audiences = sorted(
            jwt.decode(t, options={"verify_signature": False})["aud"] for t in tokens
        )
        assert audiences == sorted([a.client_id, b.client_id])
        assert len({jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}) == 2
    assert bystander.received == []


def test_any_django_logout_ends_the_oidc_session(
    browser, rp_client, sign_in_with, django_capture_on_commit_callbacks
):
    """The admin's or the project's own logout view ends the session just the same."""
    with logout_receiver() as rp:
        sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        with django_capture_on_commit_callbacks(execute=True):
            browser.logout()
        assert len(rp.logout_tokens(1)) == 1


def test_the_logout_response_does_not_wait_for_the_rp(browser, rp_client, sign_in_with, log_out):
    with logout_receiver() as rp:
        rp.release.clear()  # the RP holds every request until released
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)  # returned while the RP still holds the delivery
        assert len(rp.wait_for(1)) == 1
        rp.release.set()


def test_a_failed_delivery_is_retried(browser, rp_client, sign_in_with, log_out, caplog):
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver(503, 200) as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        first, second = rp.logout_tokens(2)
        record = wait_for_event(caplog, "backchannel_logout_delivered")
    assert first == second
    assert record.client_id == signed_in.client.client_id
    assert not events(caplog, "backchannel_logout_failed")


def test_retries_are_bounded_and_failure_is_an_event(
    browser, rp_client, sign_in_with, log_out, caplog
):
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver(500) as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        record = wait_for_event(caplog, "backchannel_logout_failed")
        assert len(rp.received) == 3  # BACKCHANNEL_LOGOUT_ATTEMPTS
    assert record.levelno == logging.WARNING
    assert record.client_id == signed_in.client.client_id and record.reason == "HTTP 500"
    assert signed_in.id_token not in record.getMessage()
    assert rp.received[0]["form"]["logout_token"][0] not in record.getMessage()


def test_a_refusal_is_final(browser, rp_client, sign_in_with, log_out, caplog):
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver(400) as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        record = wait_for_event(caplog, "backchannel_logout_failed")
        assert len(rp.received) == 1
    assert record.reason == "HTTP 400"


def test_an_unreachable_rp_is_a_failure_event(browser, rp_client, sign_in_with, log_out, caplog):
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver() as rp:
        url = rp.url
    signed_in = sign_in_with(*rp_client(backchannel_logout_uri=url))
    log_out(signed_in.id_token)
    assert wait_for_event(caplog, "backchannel_logout_failed").client_id == (
        signed_in.client.client_id
    )


def test_user_logged_out_signal(browser, rp_client, sign_in_with, log_out, user):
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.user_logged_out.connect(receiver, dispatch_uid="test-logout")
    try:
        a = sign_in_with(*rp_client("A"))
        b = sign_in_with(*rp_client("B"))
        sid = session_sid(browser)
        log_out(a.id_token)
    finally:
        signals.user_logged_out.disconnect(dispatch_uid="test-logout")
    [event] = received
    assert event["user"] == user and event["sid"] == sid
    assert event["client_ids"] == sorted([a.client.client_id, b.client.client_id])
    assert event["request"] is not None


def test_revoke_on_logout_revokes_the_sessions_refresh_tokens(
    browser, rp_client, sign_in_with, log_out, offline_api, token_request
):
    revoking, revoking_secret = rp_client("Revoking", revoke_refresh_tokens_on_logout=True)
    keeping, keeping_secret = rp_client("Keeping")
    scope = "openid offline_access read:things"
    revoked = sign_in_with(revoking, revoking_secret, scope=scope, audience=API)
    kept = sign_in_with(keeping, keeping_secret, scope=scope, audience=API)
    log_out(revoked.id_token)

    def refresh(signed_in):
        return token_request(
            {"grant_type": "refresh_token", "refresh_token": signed_in.tokens["refresh_token"]},
            auth=(signed_in.client.client_id, signed_in.secret),
        )

    response = refresh(revoked)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    family = RefreshTokenFamily.objects.get(client=revoking)
    assert family.revoked_reason == "logout"
    assert refresh(kept).status_code == 200
