"""A re-authentication marker bound to the request that asked for it (issue 12, suspected
item): ``prompt=login`` or ``max_age`` makes /authorize send the person to log in and remember
that it asked. That marker used to be satisfied by any later login, so an abandoned
``prompt=login`` request let a different request, made after that login, skip its own."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from oauth_token.models import AuthorizationCode
from tests.authorize.fixtures import authorize, browser, user, web_app  # noqa: F401

pytestmark = pytest.mark.django_db


def _login_next(response) -> str:
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/"
    return parse_qs(location.query)["next"][0]


def _log_in(browser, login_redirect) -> None:  # noqa: F811
    next_url = _login_next(login_redirect)
    done = browser.post(
        login_redirect["Location"],
        {"username": "alice", "password": "correct horse", "next": next_url},
    )
    assert done.status_code == 302


def _first_party(web_app):  # noqa: F811
    client, _ = web_app
    client.first_party = True
    client.save()
    return client


@pytest.mark.parametrize("asks", [{"prompt": "login"}, {"max_age": "0"}])
def test_a_login_for_an_abandoned_request_does_not_satisfy_a_later_one(
    authorize,  # noqa: F811
    web_app,  # noqa: F811
    browser,  # noqa: F811
    asks,
):
    client = _first_party(web_app)
    abandoned = authorize(client, state="abandoned", **asks)
    _log_in(browser, abandoned)  # the person logs in, then never returns to that request
    later = authorize(client, state="later", **asks)
    assert _login_next(later)  # the later request asks for its own login
    assert AuthorizationCode.objects.count() == 0


def test_the_request_that_asked_is_satisfied_by_the_login_it_led_to(
    authorize,  # noqa: F811
    web_app,  # noqa: F811
    browser,  # noqa: F811
):
    client = _first_party(web_app)
    asked = authorize(client, state="mine", prompt="login")
    next_url = _login_next(asked)
    _log_in(browser, asked)
    resumed = browser.get(next_url)
    assert resumed.status_code == 302
    assert "code=" in resumed["Location"] and "state=mine" in resumed["Location"]
