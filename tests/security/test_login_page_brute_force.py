"""Attack: guessing a password at the sign-in page instead of the password grant.

The review found that after 12 wrong password-grant attempts the grant answered 429 even to
the right password, while ``/accounts/login/`` accepted 30 wrong attempts and then the right
one. The package's login view now counts against the same per-username and per-address
lockout (``oauth_token.core.lockout``) as the password grant."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as BrowserClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = "/accounts/login/"


@pytest.fixture
def victim(db: None) -> Any:
    return get_user_model().objects.create_user("victim", "victim@example.com", PASSWORD)


def _attempt(browser: BrowserClient, username: str, password: str, ip: str = "198.51.100.7"):
    return browser.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _signed_in(browser: BrowserClient) -> bool:
    return "_auth_user_id" in browser.session


def test_thirty_wrong_passwords_at_the_login_page_then_the_right_one_is_refused(victim):
    browser = BrowserClient()
    for _ in range(30):
        assert _attempt(browser, "victim", "guess").status_code in (200, 429)
    response = _attempt(browser, "victim", PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not _signed_in(browser)
    # Another address does not unlock the account either.
    assert _attempt(BrowserClient(), "Victim", PASSWORD, ip="203.0.113.50").status_code == 429


def test_login_page_guesses_lock_the_password_grant_too(
    victim, make_client, api, signing_keys, token_request
):
    client, secret = make_client(name="Legacy app", grant_types=["password"])
    browser = BrowserClient()
    for _ in range(10):
        _attempt(browser, "victim", "guess")
    response = token_request(
        {"grant_type": "password", "username": "victim", "password": PASSWORD, "scope": "openid"},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"


def test_password_grant_guesses_lock_the_login_page_too(
    victim, make_client, api, signing_keys, token_request
):
    client, secret = make_client(name="Legacy app", grant_types=["password"])
    for _ in range(10):
        token_request(
            {
                "grant_type": "password",
                "username": "victim",
                "password": "guess",
                "scope": "openid",
            },
            auth=(client.client_id, secret),
        )
    browser = BrowserClient()
    assert _attempt(browser, "victim", PASSWORD).status_code == 429
    assert not _signed_in(browser)


def test_one_address_guessing_many_usernames_is_locked_out(victim, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_IP": 5}
    browser = BrowserClient()
    for n in range(5):
        _attempt(browser, f"someone{n}", "guess")
    assert _attempt(browser, "victim", PASSWORD).status_code == 429
    assert not _signed_in(browser)


def test_a_successful_sign_in_clears_the_username_counter(victim):
    browser = BrowserClient()
    for _ in range(9):
        _attempt(browser, "victim", "guess")
    assert _attempt(browser, "victim", PASSWORD).status_code == 302
    browser = BrowserClient()
    for _ in range(9):
        _attempt(browser, "victim", "guess")
    assert _attempt(browser, "victim", PASSWORD).status_code == 302
