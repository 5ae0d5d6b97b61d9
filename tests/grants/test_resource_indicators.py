"""Resource indicators (RFC 8707): ``resource`` wherever ``audience`` is accepted; several at
/authorize, one per token request, narrowing on code redemption and refresh."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oauth_token.models import AuthorizationCode, Consent, RefreshTokenFamily
from oauth_token.registry import provisioning
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK, assert_redirect_params, pkce_pair
from tests.conftest import basic, database_state
from tests.grants.test_authorization_code import decode, exchange

pytestmark = pytest.mark.django_db

CALENDAR = "https://calendar.example.com"


@pytest.fixture
def calendar_api(db):
    return provisioning.create_api(
        identifier=CALENDAR,
        name="Calendar",
        scopes=["read:events"],
        allow_offline_access=True,
    )


def authorize_resources(browser, client, resources, scope, **extra):
    verifier, challenge = pkce_pair()
    pairs = [
        ("response_type", "code"),
        ("client_id", client.client_id),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        *(("resource", r) for r in resources),
        *extra.items(),
    ]
    return browser.get("/authorize?" + urlencode(pairs)), verifier


def assert_invalid_target(response):
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_target"


# --- the token endpoint -----------------------------------------------------------------------


def test_client_credentials_accepts_resource_as_audience(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "resource": API}, auth=(client.client_id, secret)
    )
    assert response.status_code == 200, response.content
    assert decode(response.json()["access_token"], API)["aud"] == API


@pytest.mark.parametrize(
    "params",
    [
        {"resource": "https://unknown.example.com"},
        {"resource": "not-a-uri"},
        {"resource": f"{API}#fragment"},
        {"resource": API, "audience": "https://other.example.com"},
        {"resource": [API, "https://other.example.com"]},
    ],
    ids=["unknown", "relative", "fragment", "conflicting", "several"],
)
def test_bad_resource_at_the_token_endpoint_is_invalid_target(
    signing_keys, m2m_client, token_request, params
):
    client, secret = m2m_client
    before = database_state()
    response = token_request(
        {"grant_type": "client_credentials", **params}, auth=(client.client_id, secret)
    )
    assert_invalid_target(response)
    assert database_state() == before


def test_same_audience_and_resource_are_accepted(signing_keys, m2m_client, token_request):
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "resource": API, "audience": API},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200


def test_password_grant_accepts_resource(signing_keys, api, make_client, token_request, user):
    client, secret = make_client(name="Legacy", grant_types=["password"])
    response = token_request(
        {
            "grant_type": "password",
            "username": "alice",
            "password": "correct horse",
            "resource": API,
            "scope": "read:things",
        },
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    assert decode(response.json()["access_token"], API)["scope"] == "read:things"


# --- /authorize with several resources --------------------------------------------------------


def test_code_for_two_resources_is_redeemed_for_one_at_a_time(
    signing_keys, first_party_app, offline_api, calendar_api, browser, token_request
):
    client, secret = first_party_app
    response, verifier = authorize_resources(
        browser, client, [API, CALENDAR], "openid read:things read:events offline_access"
    )
    code = assert_redirect_params(response)["code"]
    row = AuthorizationCode.objects.get()
    assert row.audience == API and row.resources == [API, CALENDAR]
    tokens = exchange(token_request, client, secret, code, verifier, resource=CALENDAR)
    assert tokens.status_code == 200, tokens.content
    body = tokens.json()
    claims = decode(body["access_token"], CALENDAR)
    assert CALENDAR in (claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    assert API not in claims["aud"]
    assert claims["scope"] == "openid read:events offline_access"
    # The refresh token covers both resources; each refresh names one.
    family = RefreshTokenFamily.objects.get()
    assert family.resources == [API, CALENDAR]
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "resource": API},
        auth=(client.client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.content
    api_claims = decode(refreshed.json()["access_token"], API)
    assert api_claims["scope"] == "openid read:things offline_access"
    assert CALENDAR not in api_claims["aud"]


def test_code_without_resource_at_the_token_endpoint_is_for_the_first(
    signing_keys, first_party_app, offline_api, calendar_api, browser, token_request
):
    client, secret = first_party_app
    response, verifier = authorize_resources(
        browser, client, [API, CALENDAR], "read:things read:events"
    )
    code = assert_redirect_params(response)["code"]
    body = exchange(token_request, client, secret, code, verifier).json()
    claims = decode(body["access_token"], API)
    assert claims["aud"] == API and claims["scope"] == "read:things"


def test_redeeming_a_code_for_a_resource_not_granted_is_invalid_target(
    signing_keys, first_party_app, offline_api, calendar_api, browser, token_request
):
    client, secret = first_party_app
    response, verifier = authorize_resources(browser, client, [API], "read:things")
    code = assert_redirect_params(response)["code"]
    refused = exchange(token_request, client, secret, code, verifier, resource=CALENDAR)
    assert_invalid_target(refused)
    assert AuthorizationCode.objects.get().used_at is None
    assert exchange(token_request, client, secret, code, verifier, resource=API).status_code == 200


def test_refresh_for_a_resource_not_granted_is_invalid_target(
    signing_keys, first_party_app, offline_api, calendar_api, browser, token_request
):
    client, secret = first_party_app
    response, verifier = authorize_resources(browser, client, [API], "read:things offline_access")
    code = assert_redirect_params(response)["code"]
    body = exchange(token_request, client, secret, code, verifier).json()
    refused = token_request(
        {
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "resource": CALENDAR,
        },
        auth=(client.client_id, secret),
    )
    assert_invalid_target(refused)


@pytest.mark.parametrize(
    ("resources", "extra"),
    [
        (["https://unknown.example.com"], {}),
        (["relative/path"], {}),
        ([API], {"audience": "https://calendar.example.com"}),
    ],
    ids=["unknown", "relative", "conflicting"],
)
def test_bad_resource_at_authorize_is_redirected_as_invalid_target(
    signing_keys, first_party_app, offline_api, calendar_api, browser, resources, extra
):
    client, _ = first_party_app
    response, _ = authorize_resources(browser, client, resources, "openid", **extra)
    assert assert_redirect_params(response)["error"] == "invalid_target"
    assert not AuthorizationCode.objects.exists()


def test_consent_for_two_resources_is_remembered_per_api(
    signing_keys, web_app, offline_api, calendar_api, browser, user
):
    client, _ = web_app
    response, _ = authorize_resources(
        browser, client, [API, CALENDAR], "openid read:things read:events"
    )
    assert response.status_code == 200
    assert b"Calendar" in response.content and b"Example API" in response.content
    allowed = browser.post(
        "/authorize/decision",
        {"transaction": response.context["hidden"]["transaction"], "decision": "allow"},
    )
    assert "code" in assert_redirect_params(allowed)
    consents = dict(Consent.objects.values_list("audience", "scopes"))
    assert consents == {API: ["openid", "read:things"], CALENDAR: ["openid", "read:events"]}
    again, _ = authorize_resources(
        browser, client, [API, CALENDAR], "openid read:things read:events"
    )
    assert "code" in assert_redirect_params(again)


def test_pushed_request_carries_several_resources(
    signing_keys, web_app, offline_api, calendar_api, api_client, browser, token_request
):
    client, secret = web_app
    _verifier, challenge = pkce_pair()
    pairs = [
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "read:things read:events"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("resource", API),
        ("resource", CALENDAR),
    ]
    pushed = api_client.generic(
        "POST",
        "/oauth/par",
        urlencode(pairs),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert pushed.status_code == 201, pushed.content
    bad = api_client.generic(
        "POST",
        "/oauth/par",
        urlencode([*pairs, ("resource", "https://unknown.example.com")]),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert_invalid_target(bad)
    page = browser.get(
        "/authorize?"
        + urlencode({"client_id": client.client_id, "request_uri": pushed.json()["request_uri"]})
    )
    assert page.status_code == 200
    assert b"Calendar" in page.content
