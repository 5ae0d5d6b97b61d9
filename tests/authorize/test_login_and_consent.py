"""Login through Django auth, prompt and max_age (OIDC Core §3.1.2.1, §3.1.2.3), consent
(§3.1.2.4) and the form_post response mode."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as BrowserClient

from oauth_token.authorize import consent, login, pending
from oauth_token.models import AuthorizationCode, Consent

from .helpers import API, CALLBACK, ISSUER, assert_redirect_params

pytestmark = pytest.mark.django_db


def assert_login_redirect(response) -> str:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/"
    return parse_qs(location.query)["next"][0]


def assert_consent_form(response) -> dict[str, str]:
    """The hidden fields of the consent form, asserting its accessible structure."""
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="/authorize/decision"' in html
    assert '<button type="submit" name="decision" value="allow">' in html
    assert 'name="decision" value="deny"' in html
    assert "<script" not in html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert "csrfmiddlewaretoken" in fields and "transaction" in fields
    return {k: unescape(v) for k, v in fields.items()}


def third_party(web_app):
    client, _ = web_app
    return client


def set_auth_time(browser: BrowserClient, seconds_ago: int) -> None:
    session = browser.session
    session[login.SESSION_KEY] = int(time.time()) - seconds_ago
    session.save()


# --- login -----------------------------------------------------------------------------------


def test_anonymous_user_is_sent_to_django_login_and_back(authorize, web_app, user):
    client = third_party(web_app)
    anonymous = BrowserClient()
    response = authorize(client, session=anonymous, login_hint="alice@example.com")
    next_url = assert_login_redirect(response)
    assert next_url.startswith("/authorize?")
    assert parse_qs(urlsplit(response["Location"]).query)["login_hint"] == ["alice@example.com"]
    assert AuthorizationCode.objects.count() == 0
    page = anonymous.get(response["Location"])
    assert page.status_code == 200
    assert 'value="alice@example.com"' in page.content.decode()  # login_hint prefills
    logged_in = anonymous.post(
        response["Location"], {"username": "alice", "password": "correct horse", "next": next_url}
    )
    assert logged_in.status_code == 302 and logged_in["Location"] == next_url
    fields = assert_consent_form(anonymous.get(next_url))
    done = anonymous.post("/authorize/decision", {**fields, "decision": "allow"})
    params = assert_redirect_params(done)
    assert params["state"] == "st-123" and params["iss"] == ISSUER
    code = AuthorizationCode.objects.get()
    assert code.user == user
    assert abs(code.auth_time.timestamp() - time.time()) < 60


def test_prompt_none_without_session_is_login_required(authorize, web_app):
    response = authorize(third_party(web_app), session=BrowserClient(), prompt="none")
    params = assert_redirect_params(response)
    assert params["error"] == "login_required"
    assert params["state"] == "st-123" and params["iss"] == ISSUER


def test_inactive_user_must_log_in_again(authorize, web_app, user, browser):
    user.is_active = False
    user.save()
    response = authorize(third_party(web_app), prompt="none")
    assert assert_redirect_params(response)["error"] == "login_required"


def log_in(browser: BrowserClient, login_response) -> None:
    next_url = assert_login_redirect(login_response)
    done = browser.post(
        login_response["Location"],
        {"username": "alice", "password": "correct horse", "next": next_url},
    )
    assert done.status_code == 302 and done["Location"] == next_url


def test_prompt_login_forces_a_new_login_once(authorize, web_app, browser):
    client = third_party(web_app)
    client.first_party = True
    client.save()
    set_auth_time(browser, 5)
    response = authorize(client, prompt="login", state="st-login")
    next_url = assert_login_redirect(response)
    assert parse_qs(urlsplit(next_url).query)["prompt"] == ["login"]
    # Coming back without logging in does not count.
    again = browser.get(next_url)
    assert assert_login_redirect(again) == next_url
    assert AuthorizationCode.objects.count() == 0
    log_in(browser, again)
    params = assert_redirect_params(browser.get(next_url))
    assert params["code"] and params["state"] == "st-login"
    code = AuthorizationCode.objects.get()
    assert abs(code.auth_time.timestamp() - time.time()) < 5
    # The next request with prompt=login asks again.
    assert_login_redirect(browser.get(next_url))


def test_prompt_select_account_is_a_login(authorize, web_app, browser):
    response = authorize(third_party(web_app), prompt="select_account")
    assert assert_login_redirect(response).startswith("/authorize?")


def test_max_age_exceeded_sends_to_login(authorize, web_app, browser):
    set_auth_time(browser, 600)
    response = authorize(third_party(web_app), max_age="300")
    assert "max_age=300" in assert_login_redirect(response)


def test_max_age_exceeded_with_prompt_none_is_login_required(authorize, web_app, browser):
    set_auth_time(browser, 600)
    response = authorize(third_party(web_app), max_age="300", prompt="none")
    assert assert_redirect_params(response)["error"] == "login_required"


def test_max_age_satisfied_goes_on_and_binds_auth_time(authorize, web_app, browser):
    client = third_party(web_app)
    client.first_party = True
    client.save()
    set_auth_time(browser, 100)
    response = authorize(client, max_age="300")
    assert assert_redirect_params(response)["code"]
    auth_time = AuthorizationCode.objects.get().auth_time.timestamp()
    assert abs(auth_time - (time.time() - 100)) < 5


def test_max_age_zero_is_satisfied_by_the_login_it_leads_to(authorize, web_app, browser):
    """max_age=0 always asks for a login; the login that follows satisfies it however long it
    took, instead of sending the person back to log in forever."""
    client = third_party(web_app)
    client.first_party = True
    client.save()
    set_auth_time(browser, 0)
    response = authorize(client, max_age="0")
    next_url = assert_login_redirect(response)
    log_in(browser, response)
    # Thirty slow seconds pass between the request, the login and the way back.
    session = browser.session
    marker = session[login.REAUTH_KEY]
    session[login.REAUTH_KEY] = {**marker, "at": marker["at"] - 30}
    session[login.SESSION_KEY] = marker["at"] - 30
    session.save()
    assert assert_redirect_params(browser.get(next_url))["code"]
    # The next request with max_age=0 asks again.
    assert_login_redirect(browser.get(next_url))


# --- consent ---------------------------------------------------------------------------------


def test_consent_page_lists_client_api_and_scopes(authorize, web_app, offline_api):
    response = authorize(third_party(web_app), scope="openid email read:things", audience=API)
    html = response.content.decode()
    assert_consent_form(response)
    assert "Web App" in html and "Example API" in html
    for scope in ("openid", "email", "read:things"):
        assert f"<code>{scope}</code>" in html
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]
    # Browsers send "Origin: null" under no-referrer, and Django's CSRF check refuses that.
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-referrer" not in html
    assert AuthorizationCode.objects.count() == 0


def test_consent_page_offers_not_you_sign_out_back_to_the_same_request(
    authorize, web_app, browser, user
):
    response = authorize(third_party(web_app), scope="openid", login_hint="alice")
    html = response.content.decode()
    signout = html[html.index('action="/accounts/logout/"') :].split("</form>", 1)[0]
    assert "Not you? Sign out" in signout
    back = unescape(re.search(r'name="next" value="([^"]*)"', signout).group(1))
    assert back.startswith("/authorize?") and "login_hint=alice" in back
    token = browser.cookies["csrftoken"].value
    out = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token, "next": back})
    assert out.status_code == 302 and out["Location"] == back
    assert_login_redirect(browser.get(back))  # signed out: the same request asks for a login


def test_api_scope_descriptions_are_shown_on_the_consent_page(authorize, web_app, offline_api):
    scope = offline_api.scopes.get(name="read:things")
    scope.description = "Read your things"
    scope.save()
    response = authorize(third_party(web_app), scope="openid read:things", audience=API)
    html = response.content.decode()
    assert "Read your things" in html and "<code>read:things</code>" in html


def test_allow_issues_a_code_and_remembers_consent(authorize, web_app, browser, user):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client, scope="openid profile"))
    response = browser.post("/authorize/decision", {**fields, "decision": "allow"})
    params = assert_redirect_params(response)
    assert params["code"] and params["state"] == "st-123" and params["iss"] == ISSUER
    row = Consent.objects.get()
    assert (row.user, row.client, row.audience) == (user, client, "")
    assert sorted(row.scopes) == ["openid", "profile"]
    # Remembered: the next request (same or fewer scopes) gets a code at once.
    again = authorize(client, scope="openid")
    assert assert_redirect_params(again)["code"]
    assert AuthorizationCode.objects.count() == 2


def test_prompt_none_with_remembered_consent_succeeds(authorize, web_app, browser):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert assert_redirect_params(authorize(client, prompt="none"))["code"]


def test_more_scopes_than_consented_asks_again_and_adds_them(authorize, web_app, browser):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client, scope="openid"))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    fields = assert_consent_form(authorize(client, scope="openid email"))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert sorted(Consent.objects.get().scopes) == ["email", "openid"]


def test_consent_is_per_api(authorize, web_app, browser, offline_api):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client, scope="openid"))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert_consent_form(authorize(client, scope="openid read:things", audience=API))


def test_revoked_consent_is_asked_again(authorize, web_app, browser, user):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert consent.revoke(user, client.client_id) == 1
    assert Consent.objects.count() == 0
    assert_consent_form(authorize(client))
    assert assert_redirect_params(authorize(client, prompt="none"))["error"] == "consent_required"


def test_prompt_none_without_consent_is_consent_required(authorize, web_app):
    params = assert_redirect_params(authorize(third_party(web_app), prompt="none"))
    assert params["error"] == "consent_required"
    assert params["state"] == "st-123" and params["iss"] == ISSUER


def test_prompt_consent_asks_even_when_remembered(authorize, web_app, browser):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert_consent_form(authorize(client, prompt="consent"))


def test_first_party_clients_skip_consent(authorize, web_app):
    client = third_party(web_app)
    client.first_party = True
    client.save()
    assert assert_redirect_params(authorize(client))["code"]
    assert Consent.objects.count() == 0


def test_first_party_clients_are_asked_with_prompt_consent(authorize, web_app):
    client = third_party(web_app)
    client.first_party = True
    client.save()
    assert_consent_form(authorize(client, prompt="consent"))


def test_deny_is_access_denied(authorize, web_app, browser):
    fields = assert_consent_form(authorize(third_party(web_app)))
    response = browser.post("/authorize/decision", {**fields, "decision": "deny"})
    params = assert_redirect_params(response)
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123" and params["iss"] == ISSUER
    assert "code" not in params
    assert AuthorizationCode.objects.count() == 0 and Consent.objects.count() == 0


def test_a_decision_answers_its_request_once(authorize, web_app, browser):
    fields = assert_consent_form(authorize(third_party(web_app)))
    assert assert_redirect_params(
        browser.post("/authorize/decision", {**fields, "decision": "allow"})
    )
    again = browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert again.status_code == 400 and "Location" not in again
    assert AuthorizationCode.objects.count() == 1


def test_unknown_transaction_is_an_error_page(browser):
    response = browser.post("/authorize/decision", {"transaction": "forged", "decision": "allow"})
    assert response.status_code == 400 and "Location" not in response
    assert "expired" in response.content.decode()


def test_missing_decision_is_invalid_request(authorize, web_app, browser):
    fields = assert_consent_form(authorize(third_party(web_app)))
    response = browser.post("/authorize/decision", fields)
    assert assert_redirect_params(response)["error"] == "invalid_request"
    assert Consent.objects.count() == 0


def test_decision_requires_the_csrf_token(authorize, web_app, user):
    strict = BrowserClient(enforce_csrf_checks=True)
    strict.force_login(user)
    fields = assert_consent_form(authorize(third_party(web_app), session=strict))
    del fields["csrfmiddlewaretoken"]
    response = strict.post("/authorize/decision", {**fields, "decision": "allow"})
    assert response.status_code == 403
    assert AuthorizationCode.objects.count() == 0 and Consent.objects.count() == 0


def test_decision_by_another_user_is_refused(authorize, web_app, browser):
    """A pending request is bound to the user who saw the consent page."""
    fields = assert_consent_form(authorize(third_party(web_app)))
    session = browser.session
    entries = session[pending.SESSION_KEY]
    entries[fields["transaction"]]["user"] = "some-other-user"
    session[pending.SESSION_KEY] = entries
    session.save()
    response = browser.post("/authorize/decision", {**fields, "decision": "allow"})
    assert assert_redirect_params(response)["error"] == "login_required"
    assert AuthorizationCode.objects.count() == 0 and Consent.objects.count() == 0


def test_consent_admin_lists_and_revokes(authorize, web_app, browser, django_user_model):
    client = third_party(web_app)
    fields = assert_consent_form(authorize(client))
    browser.post("/authorize/decision", {**fields, "decision": "allow"})
    admin = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    staff = BrowserClient()
    staff.force_login(admin)
    listing = staff.get("/admin/oauth_token/consent/")
    assert listing.status_code == 200
    assert "Web App" in listing.content.decode() and "alice" in listing.content.decode()
    row = Consent.objects.get()
    response = staff.post(
        "/admin/oauth_token/consent/",
        {"action": "revoke_consents", "_selected_action": [row.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert Consent.objects.count() == 0


# --- response_mode=form_post -----------------------------------------------------------------


def assert_form_post(response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 200
    html = response.content.decode()
    action = re.search(r'<form id="oauth-form-post" method="post" action="([^"]+)">', html)
    assert action
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return unescape(action.group(1)), {k: unescape(v) for k, v in fields.items()}


def test_form_post_delivers_the_code_in_a_form(authorize, web_app):
    client = third_party(web_app)
    client.first_party = True
    client.save()
    response = authorize(client, response_mode="form_post", state='a&b"<c>')
    action, fields = assert_form_post(response)
    assert action == CALLBACK
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == 'a&b"<c>' and fields["iss"] == ISSUER
    assert AuthorizationCode.objects.count() == 1
    html = response.content.decode()
    assert '<script src="/authorize/form_post.js" defer></script>' in html
    assert '<button type="submit">' in html  # works without scripts too
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "form-action https://app.example.com" in csp
    assert "no-store" in response["Cache-Control"]
    script = BrowserClient().get("/authorize/form_post.js")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    assert b"oauth-form-post" in script.content


def test_form_post_delivers_errors_too(authorize, web_app):
    response = authorize(third_party(web_app), response_mode="form_post", prompt="none")
    action, fields = assert_form_post(response)
    assert action == CALLBACK
    assert fields["error"] == "consent_required"
    assert fields["state"] == "st-123" and fields["iss"] == ISSUER


def test_form_post_after_consent(authorize, web_app, browser):
    fields = assert_consent_form(authorize(third_party(web_app), response_mode="form_post"))
    response = browser.post("/authorize/decision", {**fields, "decision": "allow"})
    action, values = assert_form_post(response)
    assert action == CALLBACK and values["code"]
