"""Back-channel logout (OIDC Back-Channel Logout 1.0): when a session ends, every client that
took part in it and registered a ``backchannel_logout_uri`` receives a signed logout token,
after commit, from a background thread with bounded retries; each outcome is a public event
(``backchannel_logout_delivered`` / ``backchannel_logout_failed``), logged once and, with
AUDIT_LOG, stored as an audit event."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from django.test import Client as BrowserClient

from oauth_token import signals
from oauth_token.authorize import backchannel, sessions
from oauth_token.events import audit
from oauth_token.models import AuditEvent, Client, RefreshTokenFamily
from oauth_token.tokens import logout_tokens
from tests.authorize.helpers import API, CALLBACK, oauth_settings_with
from tests.commands.conftest import run
from tests.logout.fixtures import decode, is_signed_in, logout_url, session_sid
from tests.logout.rp import logout_receiver
from tests.stub_server import service_names

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
    return [r for r in caplog.records if getattr(r, "oauth_event", None) == name]


def wait_for_event(caplog, name: str) -> logging.LogRecord:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = events(caplog, name)
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no {name} event")


class Outcomes:
    """What the delivery threads sent on the two outcome signals: (signal name, sender,
    payload)."""

    NAMES = ("backchannel_logout_delivered", "backchannel_logout_failed")

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def receiver(self, name: str):
        def receive(sender: Any, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            with self._lock:
                self.sent.append((name, sender, kwargs))

        return receive

    def wait(self, count: int = 1) -> list[tuple[str, Any, dict[str, Any]]]:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.sent) >= count:
                    return list(self.sent)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} back-channel logout outcomes, got {self.sent}")


@pytest.fixture
def outcomes() -> Iterator[Outcomes]:
    recorder = Outcomes()
    for name in Outcomes.NAMES:
        getattr(signals, name).connect(
            recorder.receiver(name), weak=False, dispatch_uid=f"test-outcome-{name}"
        )
    try:
        yield recorder
    finally:
        for name in Outcomes.NAMES:
            getattr(signals, name).disconnect(dispatch_uid=f"test-outcome-{name}")


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


def test_delivery_is_an_event(browser, rp_client, sign_in_with, log_out, outcomes, caplog):
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver() as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        [(name, sender, payload)] = outcomes.wait(1)
        token = rp.logout_tokens(1)[0]
    assert (name, sender) == ("backchannel_logout_delivered", Client)
    assert payload == {
        "client_id": signed_in.client.client_id,
        "attempts": 1,
        "reason": "HTTP 200",
    }
    [line] = events(caplog, "backchannel_logout_delivered")  # one log line, from the receiver
    assert line.levelno == logging.INFO and line.oauth_outcome == "success"
    assert line.oauth_client_id == signed_in.client.client_id
    assert token not in line.getMessage() + repr(line.oauth_details)


def test_a_failed_delivery_is_retried(browser, rp_client, sign_in_with, log_out, outcomes):
    with logout_receiver(503, 200) as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        first, second = rp.logout_tokens(2)
        [(name, _, payload)] = outcomes.wait(1)
    assert first == second
    assert name == "backchannel_logout_delivered"
    assert payload == {"client_id": signed_in.client.client_id, "attempts": 2, "reason": "HTTP 200"}


@pytest.mark.parametrize("attempts", [3, 2])
def test_retries_are_bounded_and_failure_is_an_event(
    browser, rp_client, sign_in_with, log_out, outcomes, caplog, settings, attempts
):
    """A 5xx is retried up to BACKCHANNEL_LOGOUT_ATTEMPTS (3 by default)."""
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    if attempts != 3:
        settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "BACKCHANNEL_LOGOUT_ATTEMPTS": attempts}
    with logout_receiver(500) as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        [(name, _, payload)] = outcomes.wait(1)
        assert len(rp.received) == attempts
        token = rp.received[0]["form"]["logout_token"][0]
    assert name == "backchannel_logout_failed"
    assert payload == {
        "client_id": signed_in.client.client_id,
        "attempts": attempts,
        "reason": "HTTP 500",
    }
    [record] = events(caplog, "backchannel_logout_failed")
    assert record.levelno == logging.WARNING and record.oauth_outcome == "failure"
    assert record.oauth_client_id == signed_in.client.client_id
    assert {k: record.oauth_details[k] for k in payload} == payload
    for secret in (signed_in.id_token, token):
        assert secret not in record.getMessage() + repr(record.oauth_details)


def test_a_refusal_is_final(browser, rp_client, sign_in_with, log_out, outcomes):
    with logout_receiver(400, 200) as rp:
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=rp.url))
        log_out(signed_in.id_token)
        [(name, _, payload)] = outcomes.wait(1)
        assert len(rp.received) == 1
    assert name == "backchannel_logout_failed"
    assert payload == {"client_id": signed_in.client.client_id, "attempts": 1, "reason": "HTTP 400"}


def test_an_unreachable_rp_is_a_failure_event(
    browser, rp_client, sign_in_with, log_out, outcomes, caplog
):
    caplog.set_level(logging.INFO, logger="oauth_token.events")
    with logout_receiver() as rp:
        url = rp.url
    signed_in = sign_in_with(*rp_client(backchannel_logout_uri=url))
    log_out(signed_in.id_token)
    [(name, _, payload)] = outcomes.wait(1)
    assert name == "backchannel_logout_failed"
    assert payload["client_id"] == signed_in.client.client_id and payload["attempts"] == 3
    assert payload["reason"]
    assert wait_for_event(caplog, "backchannel_logout_failed").oauth_client_id == (
        signed_in.client.client_id
    )


def wait_for_audit_event(name: str) -> AuditEvent:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = AuditEvent.objects.filter(event=name).first()
        if row is not None:
            return row
        time.sleep(0.05)
    raise AssertionError(f"no {name} audit event")


def assert_outcome_rows(delivered: AuditEvent, failed: AuditEvent, ok: Any, gone: Any) -> None:
    for row, outcome, signed_in, reason in (
        (delivered, "success", ok, "HTTP 200"),
        (failed, "failure", gone, "HTTP 410"),
    ):
        assert (row.outcome, row.client_id) == (outcome, signed_in.client.client_id)
        assert (row.ip, row.user_agent) == ("", "")  # no request behind a delivery
        assert {k: row.details[k] for k in ("client_id", "attempts", "reason")} == {
            "client_id": signed_in.client.client_id,
            "attempts": 1,
            "reason": reason,
        }


@pytest.mark.django_db(transaction=True)
def test_outcomes_are_audit_events_written_by_the_delivery_thread(
    browser, rp_client, sign_in_with, log_out, outcomes, settings
):
    """With AUDIT_LOG_BATCH_SIZE 1 each event is written where it is sent: here the delivery
    thread, which has no request and runs after the commit (and closes its connection)."""
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "AUDIT_LOG": True, "AUDIT_LOG_BATCH_SIZE": 1}
    with logout_receiver() as rp, logout_receiver(410) as gone_rp:
        ok = sign_in_with(*rp_client("Delivered", backchannel_logout_uri=rp.url))
        gone = sign_in_with(*rp_client("Gone", backchannel_logout_uri=gone_rp.url))
        log_out(ok.id_token)
        outcomes.wait(2)
        delivered = wait_for_audit_event("backchannel_logout_delivered")
        failed = wait_for_audit_event("backchannel_logout_failed")
    assert_outcome_rows(delivered, failed, ok, gone)


def test_outcomes_reach_the_buffered_audit_writer(
    browser, rp_client, sign_in_with, log_out, outcomes, settings
):
    """With a batch size above 1 the delivery thread only hands its events to the process's
    audit writer, which stores them with the rest."""
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "AUDIT_LOG": True,
        "AUDIT_LOG_BATCH_SIZE": 50,
        "AUDIT_LOG_FLUSH_INTERVAL": 3600,
    }
    audit.writer.flush()
    with logout_receiver() as rp, logout_receiver(410) as gone_rp:
        ok = sign_in_with(*rp_client("Delivered", backchannel_logout_uri=rp.url))
        gone = sign_in_with(*rp_client("Gone", backchannel_logout_uri=gone_rp.url))
        log_out(ok.id_token)
        outcomes.wait(2)
    assert audit.writer.flush() >= 2
    delivered = AuditEvent.objects.get(event="backchannel_logout_delivered")
    failed = AuditEvent.objects.get(event="backchannel_logout_failed")
    assert_outcome_rows(delivered, failed, ok, gone)


def test_session_required_client_gets_the_sid_of_its_id_tokens(
    browser, rp_client, sign_in_with, log_out, offline_api, token_request
):
    """Back-Channel Logout §2.2/§2.4: a client with backchannel_logout_session_required needs
    ``sid`` in the logout token, equal to the one in the ID tokens it holds for that session,
    refreshed ones included, to find the session to end."""
    with logout_receiver() as rp:
        client, secret = rp_client(
            backchannel_logout_uri=rp.url, backchannel_logout_session_required=True
        )
        signed_in = sign_in_with(client, secret, scope="openid offline_access", audience=API)
        refreshed = token_request(
            {"grant_type": "refresh_token", "refresh_token": signed_in.tokens["refresh_token"]},
            auth=(client.client_id, secret),
        ).json()
        sid = session_sid(browser)
        log_out(signed_in.id_token)
        [token] = rp.logout_tokens(1)
    claims = decode(token, client.client_id)
    assert claims["sid"] == sid == signed_in.claims["sid"]
    assert decode(refreshed["id_token"], client.client_id)["sid"] == sid


def test_only_the_session_that_ends_is_named(
    browser, rp_client, sign_in_with, log_out, user, django_capture_on_commit_callbacks
):
    """The same person is signed in in a second browser too: ending that session tells the
    client nothing (it took part only in the first), and ending the first names the first's
    sid, so an RP that requires the session never ends the wrong one."""
    with logout_receiver() as rp:
        client, secret = rp_client(
            backchannel_logout_uri=rp.url, backchannel_logout_session_required=True
        )
        signed_in = sign_in_with(client, secret)
        first_sid = session_sid(browser)
        other = BrowserClient()
        other.force_login(user)
        assert session_sid(other) not in (None, first_sid)
        with django_capture_on_commit_callbacks(execute=True):
            other.logout()
        log_out(signed_in.id_token)
        [request] = rp.wait_for(1)
    assert decode(request["form"]["logout_token"][0], client.client_id)["sid"] == first_sid
    assert len(rp.received) == 1


def test_a_session_without_a_sid_sends_no_logout_token(
    browser, rp_client, sign_in_with, django_capture_on_commit_callbacks, monkeypatch
):
    """A Django session that has no sid (it signed in before this app was installed) has no
    participants: logging it out sends no logout token, certainly none without a sid."""
    started = []
    monkeypatch.setattr(backchannel, "notify", lambda notices: started.extend(notices))
    client, secret = rp_client(
        backchannel_logout_uri="https://rp.example/bc", backchannel_logout_session_required=True
    )
    sign_in_with(client, secret)
    session = browser.session
    del session[sessions.SESSION_KEY]
    session.save()
    with django_capture_on_commit_callbacks(execute=True):
        browser.logout()
    assert started == []


def test_a_logout_token_always_names_a_session():
    with pytest.raises(ValueError):
        logout_tokens.mint(client_id="c", subject="s", sid="")


def test_a_service_name_host_is_reached_where_private_addresses_are_allowed(
    browser, rp_client, sign_in_with, log_out, outcomes
):
    """``http://rp:PORT/...``, as docker-compose names the relying party, is a valid URI; the
    outbound module resolves it when sending, and OUTBOUND_ALLOW_PRIVATE_ADDRESSES (on in these
    tests, as a compose deployment would set it) lets it reach the service."""
    with logout_receiver() as rp, service_names("rp"):
        uri = rp.url.replace("127.0.0.1", "rp")
        signed_in = sign_in_with(*rp_client(backchannel_logout_uri=uri))
        assert signed_in.client.backchannel_logout_uri == uri
        log_out(signed_in.id_token)
        [(name, _, _)] = outcomes.wait(1)
        assert len(rp.logout_tokens(1)) == 1
    assert name == "backchannel_logout_delivered"


def test_a_service_name_host_is_still_refused_when_it_resolves_to_a_private_address(
    browser, rp_client, sign_in_with, log_out, outcomes, settings
):
    """The SSRF guard applies at send time, whatever the URI's form."""
    with logout_receiver() as rp, service_names("rp"):
        signed_in = sign_in_with(
            *rp_client(backchannel_logout_uri=rp.url.replace("127.0.0.1", "rp"))
        )
        settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": False}
        log_out(signed_in.id_token)
        [(name, _, payload)] = outcomes.wait(1)
        assert rp.received == []
    assert name == "backchannel_logout_failed"
    assert "not public" in payload["reason"]


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


def test_revoke_on_logout_set_by_the_command_revokes_the_sessions_refresh_tokens(
    browser, sign_in_with, log_out, offline_api, token_request
):
    """``oauth_client create --revoke-refresh-tokens-on-logout`` has the admin's effect."""
    created = run(
        "oauth_client",
        "create",
        "--name",
        "Command-made",
        "--grant-type",
        "authorization_code",
        "refresh_token",
        "--redirect-uri",
        CALLBACK,
        "--first-party",
        "--revoke-refresh-tokens-on-logout",
        "--json",
    ).json()
    client = Client.objects.get(client_id=created["client_id"])
    signed_in = sign_in_with(
        client, created["client_secret"], scope="openid offline_access read:things", audience=API
    )
    log_out(signed_in.id_token)
    response = token_request(
        {"grant_type": "refresh_token", "refresh_token": signed_in.tokens["refresh_token"]},
        auth=(client.client_id, created["client_secret"]),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert RefreshTokenFamily.objects.get(client=client).revoked_reason == "logout"
