"""``/oidc/logout`` (OIDC RP-Initiated Logout 1.0): a request tied to the signed-in person by
its ``id_token_hint`` ends the session at once and returns to the registered
``post_logout_redirect_uri`` with ``state``; anything else is confirmed first, and anything
doubtful is an error page."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as BrowserClient

from oauth_token.models import SessionParticipant
from oauth_token.registry import keyring
from tests.authorize.helpers import ISSUER
from tests.logout.fixtures import LOGGED_OUT, is_signed_in, logout_url, session_sid

pytestmark = pytest.mark.django_db


def confirmation(response) -> str:
    """Assert the response is the confirmation page; return its transaction id."""
    assert response.status_code == 200, response.content[:300]
    html = response.content.decode()
    assert 'name="decision" value="logout"' in html and "csrfmiddlewaretoken" in html
    return re.search(r'name="transaction" value="([^"]+)"', html).group(1)


def assert_error_page(response, text: str) -> None:
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert response["Content-Type"].startswith("text/html")
    assert text in response.content.decode()


def test_hint_for_this_session_logs_out_and_returns_with_state(
    browser, rp_client, sign_in_with, django_capture_on_commit_callbacks
):
    signed_in = sign_in_with(*rp_client())
    sid = session_sid(browser)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.get(
            logout_url(
                id_token_hint=signed_in.id_token,
                post_logout_redirect_uri=LOGGED_OUT,
                state="af0ifjsldkj",
            )
        )
    assert response.status_code == 302
    assert response["Location"] == f"{LOGGED_OUT}?state=af0ifjsldkj"
    assert "no-store" in response["Cache-Control"]
    assert not is_signed_in(browser)
    assert not SessionParticipant.objects.filter(sid=sid).exists()


def test_query_of_the_registered_uri_is_kept(browser, rp_client, sign_in_with):
    uri = "https://app.example.com/out?lang=en"
    signed_in = sign_in_with(*rp_client(post_logout_redirect_uris=[uri]))
    response = browser.get(
        logout_url(id_token_hint=signed_in.id_token, post_logout_redirect_uri=uri, state="s")
    )
    location = urlsplit(response["Location"])
    assert parse_qs(location.query) == {"lang": ["en"], "state": ["s"]}


def test_logout_by_form_post(browser, rp_client, sign_in_with):
    signed_in = sign_in_with(*rp_client())
    response = browser.post(
        "/oidc/logout",
        {
            "id_token_hint": signed_in.id_token,
            "client_id": signed_in.client.client_id,
            "post_logout_redirect_uri": LOGGED_OUT,
        },
    )
    assert response.status_code == 302 and response["Location"] == LOGGED_OUT
    assert not is_signed_in(browser)


def test_without_redirect_uri_a_signed_out_page_is_shown(browser, rp_client, sign_in_with):
    signed_in = sign_in_with(*rp_client())
    response = browser.get(logout_url(id_token_hint=signed_in.id_token))
    assert response.status_code == 200
    assert "You are signed out" in response.content.decode()
    assert not is_signed_in(browser)


def test_expired_hint_is_accepted(browser, rp_client, sign_in_with, user):
    client, secret = rp_client()
    sign_in_with(client, secret)
    long_ago = int(time.time()) - 7 * 86400
    expired = keyring.sign(
        {
            "iss": ISSUER,
            "sub": str(user.pk),
            "aud": client.client_id,
            "iat": long_ago,
            "exp": long_ago + 3600,
            "sid": session_sid(browser),
        },
        alg="RS256",
        typ="JWT",
    )
    response = browser.get(logout_url(id_token_hint=expired, post_logout_redirect_uri=LOGGED_OUT))
    assert response.status_code == 302 and response["Location"] == LOGGED_OUT
    assert not is_signed_in(browser)


def test_without_hint_the_person_confirms(browser, rp_client, sign_in_with):
    client, _ = rp_client()
    sign_in_with(*rp_client("Other"))
    response = browser.get(
        logout_url(client_id=client.client_id, post_logout_redirect_uri=LOGGED_OUT, state="x")
    )
    transaction = confirmation(response)
    assert "Logout App" in response.content.decode()
    assert is_signed_in(browser)

    answer = browser.post(
        "/oidc/logout/confirm", {"transaction": transaction, "decision": "logout"}
    )
    assert answer.status_code == 302 and answer["Location"] == f"{LOGGED_OUT}?state=x"
    assert not is_signed_in(browser)


def test_staying_signed_in_changes_nothing(browser):
    transaction = confirmation(browser.get("/oidc/logout"))
    answer = browser.post("/oidc/logout/confirm", {"transaction": transaction, "decision": "stay"})
    assert answer.status_code == 200 and "still signed in" in answer.content.decode()
    assert is_signed_in(browser)
    # The answered request is gone: the same form cannot be submitted again.
    again = browser.post("/oidc/logout/confirm", {"transaction": transaction, "decision": "logout"})
    assert_error_page(again, "expired")
    assert is_signed_in(browser)


def test_confirmation_is_csrf_protected(user):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(user)
    transaction = confirmation(browser.get("/oidc/logout"))
    forged = browser.post(
        "/oidc/logout/confirm", {"transaction": transaction, "decision": "logout"}
    )
    assert forged.status_code == 403
    assert is_signed_in(browser)


def test_confirmation_needs_the_transaction_of_this_session(browser, user):
    confirmation(browser.get("/oidc/logout"))
    answer = browser.post("/oidc/logout/confirm", {"transaction": "guessed", "decision": "logout"})
    assert_error_page(answer, "expired")
    assert is_signed_in(browser)


def test_missing_decision_is_an_error_page(browser):
    transaction = confirmation(browser.get("/oidc/logout"))
    assert_error_page(browser.post("/oidc/logout/confirm", {"transaction": transaction}), "missing")
    assert is_signed_in(browser)


def test_hint_for_another_person_is_confirmed(browser, rp_client, sign_in_with, django_user_model):
    client, secret = rp_client()
    signed_in = sign_in_with(client, secret)
    bob = django_user_model.objects.create_user("bob", password="pw-bob-123456")
    other = BrowserClient()
    other.force_login(bob)
    confirmation(other.get(logout_url(id_token_hint=signed_in.id_token)))
    assert is_signed_in(other) and is_signed_in(browser)


def test_hint_from_an_earlier_session_is_confirmed(browser, rp_client, sign_in_with, user):
    client, secret = rp_client()
    old = sign_in_with(client, secret)
    browser.logout()
    browser.force_login(user)
    confirmation(browser.get(logout_url(id_token_hint=old.id_token)))
    assert is_signed_in(browser)


@pytest.mark.parametrize("logout_hint", ["alice", "alice@example.com"])
def test_logout_hint_naming_the_person_is_accepted(browser, rp_client, sign_in_with, logout_hint):
    signed_in = sign_in_with(*rp_client())
    response = browser.get(logout_url(id_token_hint=signed_in.id_token, logout_hint=logout_hint))
    assert response.status_code == 200 and not is_signed_in(browser)


def test_logout_hint_naming_someone_else_is_confirmed(browser, rp_client, sign_in_with):
    signed_in = sign_in_with(*rp_client())
    confirmation(browser.get(logout_url(id_token_hint=signed_in.id_token, logout_hint="bob")))
    assert is_signed_in(browser)


def test_nobody_signed_in_goes_straight_back(rp_client, db):
    client, _ = rp_client()
    response = BrowserClient().get(
        logout_url(client_id=client.client_id, post_logout_redirect_uri=LOGGED_OUT, state="s")
    )
    assert response.status_code == 302 and response["Location"] == f"{LOGGED_OUT}?state=s"


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"id_token_hint": "not-a-jwt"}, "id_token_hint"),
        ({"id_token_hint": "e30.e30.e30"}, "id_token_hint"),
        ({"client_id": "unknown-client"}, "unknown"),
        ({"client_id": "\x00"}, "unknown"),
        ({"post_logout_redirect_uri": LOGGED_OUT}, "identified"),
        ({"state": "x" * 9000}, "too long"),
    ],
    ids=["garbage-hint", "unsigned-hint", "unknown-client", "nul-client", "no-client", "long"],
)
def test_bad_requests_are_error_pages(browser, rp_client, params, text):
    response = browser.get(logout_url(**params))
    assert_error_page(response, text)
    assert is_signed_in(browser)


def test_a_parameter_sent_twice_is_an_error_page(browser, rp_client):
    client, _ = rp_client()
    response = browser.get(f"/oidc/logout?client_id={client.client_id}&client_id=other")
    assert_error_page(response, "more than once")


def test_client_id_must_be_an_audience_of_the_hint(browser, rp_client, sign_in_with):
    signed_in = sign_in_with(*rp_client())
    other, _ = rp_client("Other")
    response = browser.get(logout_url(id_token_hint=signed_in.id_token, client_id=other.client_id))
    assert_error_page(response, "audience")
    assert is_signed_in(browser)


def test_access_token_is_not_an_id_token_hint(browser, rp_client, sign_in_with):
    signed_in = sign_in_with(*rp_client())
    response = browser.get(logout_url(id_token_hint=signed_in.tokens["access_token"]))
    assert_error_page(response, "id_token_hint")
    assert is_signed_in(browser)


def test_other_methods_are_refused(browser):
    assert browser.put("/oidc/logout").status_code == 405
    assert browser.get("/oidc/logout/confirm").status_code == 405


def test_discovery_advertises_logout(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["end_session_endpoint"] == f"{ISSUER}oidc/logout"
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert metadata["frontchannel_logout_supported"] is False
