"""Guessing user codes at /activate (RFC 8628 §5.1; issue 12 item 7 and the suspected items
on /activate): a burst of concurrent wrong codes is counted before any is evaluated, one
person behind a NAT cannot lock out the address, and the page is CSRF-protected on its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as BrowserClient

from oauth_token.models import DeviceCodeStatus
from tests.conftest import basic
from tests.device.conftest import row_for
from tests.race import race

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PARALLEL = 40
LIMIT = 10


@pytest.fixture
def started(signing_keys, make_client, api, api_client) -> dict[str, Any]:
    client, secret = make_client(name="TV", grant_types=[DEVICE_GRANT])
    response = api_client.generic(
        "POST",
        "/oauth/device/code",
        urlencode({"scope": "read:things", "audience": "https://api.example.com"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()


def _person(django_user_model: Any, name: str) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(django_user_model.objects.create_user(name, password="pw"))
    return browser


def _limits(settings: Any, **values: int) -> None:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **values}


def test_concurrent_wrong_codes_from_one_session_are_evaluated_at_most_limit_times(
    started, settings, django_user_model
):
    _limits(settings, DEVICE_ACTIVATION_MAX_FAILURES=LIMIT)
    browser = _person(django_user_model, "mallory")
    codes = iter(f"BCDF-{a}{b}{c}{d}" for a in "GHJK" for b in "LMNP" for c in "QRST" for d in "VW")
    guesses = [next(codes) for _ in range(PARALLEL)]
    turn = iter(range(PARALLEL))

    def guess() -> int:
        return browser.post("/activate", {"user_code": guesses[next(turn)]}).status_code

    statuses = race(guess, PARALLEL)
    assert not [s for s in statuses if isinstance(s, Exception)], statuses
    assert statuses.count(400) <= LIMIT, statuses  # wrong code, evaluated
    assert statuses.count(400) + statuses.count(429) == PARALLEL, statuses
    response = browser.post("/activate", {"user_code": started["user_code"]})
    assert response.status_code == 429


def test_one_person_guessing_behind_a_nat_does_not_lock_out_the_address(
    started, settings, django_user_model
):
    _limits(settings, DEVICE_ACTIVATION_MAX_FAILURES=3)
    mallory = _person(django_user_model, "mallory")
    for _ in range(5):
        mallory.post("/activate", {"user_code": "BCDF-GHJK"})
    assert mallory.post("/activate", {"user_code": started["user_code"]}).status_code == 429
    alice = _person(django_user_model, "alice")  # same REMOTE_ADDR, 127.0.0.1
    response = alice.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert response.status_code == 200, response.content
    assert row_for(started["device_code"]).status == DeviceCodeStatus.APPROVED


def test_the_per_address_limit_still_stops_many_accounts_guessing_from_one_address(
    started, settings, django_user_model
):
    _limits(settings, DEVICE_ACTIVATION_MAX_FAILURES=3, DEVICE_ACTIVATION_MAX_FAILURES_PER_IP=6)
    for n in range(3):
        sybil = _person(django_user_model, f"sybil{n}")
        for _ in range(2):
            assert sybil.post("/activate", {"user_code": "BCDF-GHJK"}).status_code == 400
    late = _person(django_user_model, "late")
    assert late.post("/activate", {"user_code": started["user_code"]}).status_code == 429


def test_activate_refuses_a_cross_site_post_without_the_csrf_middleware(
    started, settings, django_user_model
):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CsrfViewMiddleware" not in m]
    victim = BrowserClient(enforce_csrf_checks=True)
    victim.force_login(django_user_model.objects.create_user("victim", password="pw"))
    response = victim.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert response.status_code == 403
    assert row_for(started["device_code"]).status == DeviceCodeStatus.PENDING
