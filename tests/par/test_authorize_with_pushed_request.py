"""/authorize with a pushed authorization request (RFC 9126 §4, §5)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as BrowserClient

from oauth_token.models import AuthorizationCode
from tests.authorize.helpers import (
    CALLBACK,
    ISSUER,
    assert_redirect_params,
    authorize_url,
    oauth_settings_with,
)
from tests.conftest import _urlencode, basic

pytestmark = pytest.mark.django_db


def push(client, secret, pkce, **params) -> str:
    from rest_framework.test import APIClient

    data = {
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "pushed-state",
        "nonce": "pushed-nonce",
        "code_challenge": pkce[1],
        "code_challenge_method": "S256",
        **params,
    }
    response = APIClient().generic(
        "POST",
        "/oauth/par",
        _urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert response.status_code == 201, response.content
    return response.json()["request_uri"]


def test_pushed_request_yields_a_code(browser, first_party_app, pkce):
    client, secret = first_party_app
    request_uri = push(client, secret, pkce)
    response = browser.get(
        authorize_url(client_id=client.client_id, request_uri=request_uri, state="ignored")
    )
    params = assert_redirect_params(response)
    assert params["state"] == "pushed-state" and params["iss"] == ISSUER
    code = AuthorizationCode.objects.get()
    assert code.nonce == "pushed-nonce" and code.code_challenge == pkce[1]
    # Single use: the same request_uri cannot start a second authorization.
    again = browser.get(authorize_url(client_id=client.client_id, request_uri=request_uri))
    assert again.status_code == 400 and "Location" not in again


def test_login_resumes_with_the_request_uri_only(first_party_app, pkce, user):
    client, secret = first_party_app
    request_uri = push(client, secret, pkce)
    anonymous = BrowserClient()
    response = anonymous.get(authorize_url(client_id=client.client_id, request_uri=request_uri))
    assert response.status_code == 302
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert parse_qs(urlsplit(next_url).query) == {
        "client_id": [client.client_id],
        "request_uri": [request_uri],
    }
    anonymous.post(
        response["Location"], {"username": "alice", "password": "correct horse", "next": next_url}
    )
    params = assert_redirect_params(anonymous.get(next_url))
    assert params["code"] and params["state"] == "pushed-state"


def test_consent_for_a_pushed_request(browser, web_app, pkce):
    client, secret = web_app
    request_uri = push(client, secret, pkce)
    page = browser.get(authorize_url(client_id=client.client_id, request_uri=request_uri))
    assert page.status_code == 200
    transaction = page.context["hidden"]["transaction"]
    response = browser.post(
        "/authorize/decision", {"transaction": transaction, "decision": "allow"}
    )
    assert assert_redirect_params(response)["code"]


def test_pushed_request_of_another_client_is_an_error_page(browser, first_party_app, web_app, pkce):
    client, secret = first_party_app
    other, _ = web_app
    request_uri = push(client, secret, pkce)
    response = browser.get(authorize_url(client_id=other.client_id, request_uri=request_uri))
    assert response.status_code == 400 and "Location" not in response
    assert AuthorizationCode.objects.count() == 0


def test_client_requiring_par_refuses_plain_requests(authorize, first_party_app, pkce):
    client, secret = first_party_app
    client.require_par = True
    client.save()
    params = assert_redirect_params(authorize(client))
    assert params["error"] == "invalid_request" and "pushed" in params["error_description"]
    request_uri = push(client, secret, pkce)
    response = authorize(client, request_uri=request_uri)
    assert assert_redirect_params(response)["code"]


def test_server_wide_par_requirement(authorize, first_party_app, settings):
    settings.OAUTH_TOKEN = oauth_settings_with(REQUIRE_PUSHED_AUTHORIZATION_REQUESTS=True)
    client, _ = first_party_app
    assert assert_redirect_params(authorize(client))["error"] == "invalid_request"
