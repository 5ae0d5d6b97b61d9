"""/activate (RFC 8628 §3.3, §5.1, §5.4): a signed-in person enters the code, confirms it,
sees the client and scopes, and allows or denies."""

from __future__ import annotations

import pytest
from django.test import Client as BrowserClient

from oauth_token.models import DeviceCodeStatus

from .conftest import elapse, row_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(tv_client, device_code_request):
    client, secret = tv_client
    return device_code_request(
        {"scope": "openid read:things", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    ).json()


@pytest.fixture
def browser(person):
    b = BrowserClient(enforce_csrf_checks=False)
    b.force_login(person)
    return b


def test_anonymous_visitor_is_sent_to_login_with_next(db, started):
    response = BrowserClient().get(started["verification_uri_complete"].split(".test", 1)[1])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "user_code" in response["Location"]


def test_entry_page_has_a_user_code_field(browser, started):
    response = browser.get("/activate")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="user_code"' in html
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c,
        lambda c: c.lower(),
        lambda c: c.replace("-", ""),
        lambda c: c.replace("-", "").lower(),
        lambda c: f"  {c[:2]} {c[2:].lower()} ",
    ],
    ids=["as-shown", "lower", "no-dash", "lower-no-dash", "spaced"],
)
def test_code_is_case_and_dash_insensitive(browser, started, typed):
    response = browser.post("/activate", {"user_code": typed(started["user_code"])})
    assert response.status_code == 200
    html = response.content.decode()
    assert started["user_code"] in html
    assert 'name="decision" value="allow"' in html
    assert 'name="decision" value="deny"' in html


def test_confirm_page_shows_client_code_and_scope_descriptions(browser, started, api):
    scope = api.scopes.get(name="read:things")
    scope.description = "Read your things"
    scope.save()
    response = browser.get("/activate", {"user_code": started["user_code"]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Living-room TV" in html
    assert started["user_code"] in html
    assert "Read your things" in html
    assert "read:things" in html and "openid" in html


def test_allow_approves_for_the_signed_in_person(browser, started, person):
    response = browser.post(
        "/activate", {"user_code": started["user_code"].lower(), "decision": "allow"}
    )
    assert response.status_code == 200
    assert "Device connected" in response.content.decode()
    row = row_for(started["device_code"])
    assert row.status == DeviceCodeStatus.APPROVED
    assert row.user_id == person.pk
    assert row.auth_time is not None and row.decided_at is not None


def test_deny_records_denial(browser, started, person):
    response = browser.post("/activate", {"user_code": started["user_code"], "decision": "deny"})
    assert response.status_code == 200
    assert "Access denied" in response.content.decode()
    row = row_for(started["device_code"])
    assert row.status == DeviceCodeStatus.DENIED
    assert row.user_id == person.pk


def test_unknown_decision_changes_nothing(browser, started):
    response = browser.post("/activate", {"user_code": started["user_code"], "decision": "maybe"})
    assert response.status_code == 400
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING


def test_wrong_code_shows_error_and_keeps_form(browser, started):
    response = browser.post("/activate", {"user_code": "BCDF-GHJK"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "not valid" in html and 'name="user_code"' in html


@pytest.mark.parametrize("typed", ["", "AAAA-AAAA", "BCDF-GHJ", "BCDF-GHJKL", "ÄBCD-FGHJ"])
def test_malformed_codes_are_wrong_codes(browser, started, typed):
    response = browser.post("/activate", {"user_code": typed})
    assert response.status_code == 400
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING


def test_code_decided_once_cannot_be_decided_again(browser, started):
    browser.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    response = browser.post("/activate", {"user_code": started["user_code"], "decision": "deny"})
    assert response.status_code == 400
    assert row_for(started["device_code"]).status == DeviceCodeStatus.APPROVED


def test_expired_code_cannot_be_approved(browser, started):
    elapse(started["device_code"], 900)
    response = browser.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert response.status_code == 400
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING


def test_wrong_codes_are_throttled_per_person(browser, started, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DEVICE_ACTIVATION_MAX_FAILURES": 3}
    for _ in range(3):
        assert browser.post("/activate", {"user_code": "BCDF-GHJK"}).status_code == 400
    # Even the right code is refused now: guessing must not continue at full speed.
    response = browser.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert response.status_code == 429
    assert "Too many" in response.content.decode()
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING


def test_throttle_counts_per_address_across_accounts(started, settings, django_user_model):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DEVICE_ACTIVATION_MAX_FAILURES_PER_IP": 2}
    for name in ("mallory1", "mallory2"):
        b = BrowserClient()
        b.force_login(django_user_model.objects.create_user(name, password="x"))
        b.post("/activate", {"user_code": "BCDF-GHJK"})
    b = BrowserClient()
    b.force_login(django_user_model.objects.create_user("mallory3", password="x"))
    assert b.post("/activate", {"user_code": started["user_code"]}).status_code == 429


def test_throttle_window_passes(browser, started, settings):
    from django.core.cache import cache

    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DEVICE_ACTIVATION_MAX_FAILURES": 1}
    browser.post("/activate", {"user_code": "BCDF-GHJK"})
    assert browser.post("/activate", {"user_code": started["user_code"]}).status_code == 429
    cache.clear()  # the window's counters expire from the cache
    assert browser.post("/activate", {"user_code": started["user_code"]}).status_code == 200


def test_a_correct_code_does_not_reset_the_count(browser, started, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DEVICE_ACTIVATION_MAX_FAILURES": 2}
    browser.post("/activate", {"user_code": "BCDF-GHJK"})
    assert browser.post("/activate", {"user_code": started["user_code"]}).status_code == 200
    browser.post("/activate", {"user_code": "BCDF-GHJK"})
    assert browser.post("/activate", {"user_code": started["user_code"]}).status_code == 429


def test_post_without_csrf_token_is_refused(person, started):
    b = BrowserClient(enforce_csrf_checks=True)
    b.force_login(person)
    response = b.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert response.status_code == 403
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING


def test_inactive_client_code_is_not_found(browser, started, tv_client):
    client, _ = tv_client
    client.is_active = False
    client.save()
    response = browser.post("/activate", {"user_code": started["user_code"]})
    assert response.status_code == 400


def test_allow_remembers_consent_and_records_the_sessions_login_time(browser, started, person):
    from oauth_token.authorize import login
    from oauth_token.models import Consent

    browser.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    consent = Consent.objects.get(user=person)
    assert consent.client.name == "Living-room TV"
    assert consent.audience == "https://api.example.com"
    assert sorted(consent.scopes) == ["openid", "read:things"]
    logged_in_at = browser.session[login.SESSION_KEY]
    assert int(row_for(started["device_code"]).auth_time.timestamp()) == logged_in_at


def test_deny_remembers_nothing(browser, started, person):
    from oauth_token.models import Consent

    browser.post("/activate", {"user_code": started["user_code"], "decision": "deny"})
    assert not Consent.objects.filter(user=person).exists()


def test_confirmation_is_shown_even_for_first_party_clients(browser, make_client, api, person):
    from tests.conftest import basic

    client, secret = make_client(
        name="Own TV",
        grant_types=["urn:ietf:params:oauth:grant-type:device_code"],
        first_party=True,
    )
    from rest_framework.test import APIClient

    body = (
        APIClient()
        .post(
            "/oauth/device/code",
            {"scope": "openid"},
            format="json",
            HTTP_AUTHORIZATION=basic(client.client_id, secret),
        )
        .json()
    )
    response = browser.get("/activate", {"user_code": body["user_code"]})
    assert response.status_code == 200
    assert 'name="decision" value="allow"' in response.content.decode()
