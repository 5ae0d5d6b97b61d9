"""The package's sign-in and sign-out pages (``oauth_token.login_urls``), as a person and a
browser see them: any way /authorize sends someone there renders, ``login_hint`` prefills the
username, a sign-in returns to ``next``, and a sign-out lands on the signed-out page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as BrowserClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = "/accounts/login/"


@pytest.fixture
def person(db: None) -> Any:
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def browser() -> BrowserClient:
    return BrowserClient(enforce_csrf_checks=True)


def _csrf(browser: BrowserClient, url: str) -> str:
    browser.get(url)
    return browser.cookies["csrftoken"].value


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?next=/authorize%3Fclient_id%3Dabc",
        "?login_hint=alice%40example.com",
        "?next=/x&login_hint=",
    ],
    ids=["bare", "next-only", "hint-only", "empty-hint"],
)
def test_login_page_renders_with_or_without_next_and_login_hint(client, query):
    response = client.get(LOGIN + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


def test_login_hint_prefills_the_username_and_moves_focus_to_the_password(client):
    html = client.get(LOGIN + "?" + urlencode({"login_hint": "alice@example.com"})).content
    html = html.decode()
    assert 'value="alice@example.com"' in html
    password_input = html[html.index('id="id_password"') :].split(">", 1)[0]
    assert "autofocus" in password_input


def test_login_hint_is_escaped(client):
    html = client.get(LOGIN + "?login_hint=%22%3E%3Cscript%3E").content.decode()
    assert "<script>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html


def test_signing_in_returns_to_next(browser, person):
    token = _csrf(browser, LOGIN)
    response = browser.post(
        LOGIN,
        {
            "username": "alice",
            "password": PASSWORD,
            "next": "/authorize?x=1",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/authorize?x=1"


def test_wrong_password_is_told_on_the_page_with_the_field_marked(browser, person):
    token = _csrf(browser, LOGIN)
    response = browser.post(
        LOGIN, {"username": "alice", "password": "wrong", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert 'value="alice"' in html


def test_sign_out_is_a_post_and_shows_the_signed_out_page(browser, person):
    browser.force_login(person)
    token = _csrf(browser, LOGIN)
    response = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "You are signed out" in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_sign_out_returns_to_a_local_next_only(browser, person):
    browser.force_login(person)
    token = _csrf(browser, LOGIN)
    local = browser.post(
        "/accounts/logout/", {"csrfmiddlewaretoken": token, "next": "/authorize?client_id=a"}
    )
    assert local["Location"] == "/authorize?client_id=a"
    browser.force_login(person)
    token = _csrf(browser, LOGIN)
    foreign = browser.post(
        "/accounts/logout/", {"csrfmiddlewaretoken": token, "next": "https://evil.example/"}
    )
    assert foreign.status_code == 200  # the signed-out page, not a redirect off-site


def test_a_project_brands_the_pages_by_extending_the_base_template(client, settings, tmp_path):
    """README: a project's own oauth_token/base.html extends the package's and overrides blocks."""
    folder = tmp_path / "oauth_token"
    folder.mkdir()
    (folder / "base.html").write_text(
        '{% extends "oauth_token/base.html" %}{% block brand %}Acme sign-in{% endblock %}'
        "{% block extra_style %}<style>:root { --ot-accent: #6d28d9; }</style>{% endblock %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    html = client.get(LOGIN).content.decode()
    assert "Acme sign-in" in html and "--ot-accent: #6d28d9" in html
    assert 'name="username"' in html  # the package's login page, inside the project's frame
