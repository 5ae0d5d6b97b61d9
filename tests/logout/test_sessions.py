"""Browser sessions: every ID token carries the ``sid`` of the session it was issued in (OIDC
Back-Channel Logout 1.0 §2.1), and the clients that took part in a session are recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone

from oauth_token.models import SessionParticipant
from oauth_token.tokens import cleanup
from tests.authorize.helpers import API, oauth_settings_with
from tests.logout.fixtures import decode, session_sid

pytestmark = pytest.mark.django_db


def test_id_token_carries_the_sid_of_the_browser_session(browser, rp_client, sign_in_with):
    client, secret = rp_client()
    signed_in = sign_in_with(client, secret)
    sid = signed_in.claims["sid"]
    assert sid == session_sid(browser)
    assert len(sid) >= 32
    assert sid != browser.session.session_key  # the sid is not the session's credential


def test_two_clients_in_one_session_share_its_sid(browser, rp_client, sign_in_with, user):
    first = sign_in_with(*rp_client("First"))
    second = sign_in_with(*rp_client("Second"))
    assert first.claims["sid"] == second.claims["sid"]
    participants = SessionParticipant.objects.filter(sid=first.claims["sid"])
    assert {p.client.name for p in participants} == {"First", "Second"}
    assert {p.user_id for p in participants} == {user.pk}


def test_each_login_starts_a_new_sid(user, rp_client, sign_in_with, browser):
    client, secret = rp_client()
    before = sign_in_with(client, secret).claims["sid"]
    browser.logout()
    browser.force_login(user)
    after = sign_in_with(client, secret).claims["sid"]
    assert before != after


def test_another_browser_has_another_sid(user, rp_client, sign_in_with, browser):
    other = BrowserClient()
    other.force_login(user)
    client, secret = rp_client()
    sign_in_with(client, secret)
    assert session_sid(other) and session_sid(other) != session_sid(browser)


def test_a_session_that_logged_in_before_install_gets_a_sid(rp_client, sign_in_with, browser):
    session = browser.session
    del session["oauth_token_sid"]
    session.save()
    signed_in = sign_in_with(*rp_client())
    assert signed_in.claims["sid"] == session_sid(browser)


def test_refreshed_id_token_keeps_the_sid(rp_client, sign_in_with, token_request, offline_api):
    client, secret = rp_client()
    signed_in = sign_in_with(
        client, secret, scope="openid offline_access read:things", audience=API
    )
    response = token_request(
        {"grant_type": "refresh_token", "refresh_token": signed_in.tokens["refresh_token"]},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    refreshed = decode(response.json()["id_token"], client.client_id)
    assert refreshed["sid"] == signed_in.claims["sid"]


def test_a_claims_function_cannot_override_sid(rp_client, sign_in_with, settings):
    settings.OAUTH_TOKEN = oauth_settings_with(
        CLAIMS_FUNCTION="tests.logout.test_sessions.claims_with_sid"
    )
    signed_in = sign_in_with(*rp_client())
    assert signed_in.claims["sid"] != "forged"


def claims_with_sid(user, scopes):
    return {"sid": "forged", "name": "x"}


def test_cleanup_forgets_participants_of_sessions_that_cannot_exist_any_more(
    rp_client, sign_in_with, settings
):
    sign_in_with(*rp_client())
    old = SessionParticipant.objects.get()
    SessionParticipant.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    )
    sign_in_with(*rp_client("Recent"))
    assert cleanup.run()["session_participants"] == 1
    assert [p.client.name for p in SessionParticipant.objects.all()] == ["Recent"]


def test_signing_in_again_in_the_same_session_keeps_the_sid(
    user, rp_client, sign_in_with, browser, django_user_model
):
    """prompt=login or max_age: a new authentication, not a new session (the clients that
    took part stay in it and are told when it ends)."""
    client, secret = rp_client()
    before = sign_in_with(client, secret).claims["sid"]
    browser.force_login(user)
    assert sign_in_with(client, secret).claims["sid"] == before
    bob = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    browser.force_login(bob)  # another person: Django flushes the session, a new sid
    assert session_sid(browser) not in (None, before)
