"""/authorize request validation (RFC 6749 §4.1.1, §4.1.2.1; OIDC Core §3.1.2; RFC 7636 §4.3)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from oauth_token.models import AuthorizationCode, Consent
from oauth_token.registry import provisioning

from .helpers import (
    API,
    CALLBACK,
    ISSUER,
    OTHER_CALLBACK,
    assert_redirect_params,
    authorize_url,
    oauth_settings_with,
)

pytestmark = pytest.mark.django_db

JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


def assert_error_page(response, error: str) -> None:
    """Never redirected: an HTML page for the person, with no Location header."""
    assert response.status_code == 400
    assert "Location" not in response
    assert response["Content-Type"].startswith("text/html")
    assert f"<code>{error}</code>" in response.content.decode()


def assert_redirect_error(response, error: str, state: str | None = "st-123") -> dict[str, str]:
    params = assert_redirect_params(response)
    assert response["Location"].startswith(CALLBACK + "?")
    assert params["error"] == error
    assert params["error_description"]
    assert params["iss"] == ISSUER
    if state is None:
        assert "state" not in params
    else:
        assert params["state"] == state
    assert "code" not in params
    assert AuthorizationCode.objects.count() == 0
    return params


# --- errors shown as a page, never redirected (§4.1.2.1) ------------------------------------


def test_unknown_client_is_an_error_page(browser):
    response = browser.get(
        authorize_url(response_type="code", client_id="nope", redirect_uri=CALLBACK)
    )
    assert_error_page(response, "invalid_client")


def test_missing_client_id_is_an_error_page(browser):
    response = browser.get(authorize_url(response_type="code", redirect_uri=CALLBACK))
    assert_error_page(response, "invalid_request")


def test_inactive_client_is_an_error_page(browser, web_app):
    client, _ = web_app
    client.is_active = False
    client.save()
    response = browser.get(authorize_url(response_type="code", client_id=client.client_id))
    assert_error_page(response, "invalid_client")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        CALLBACK + "/",
        CALLBACK + "?x=1",
        CALLBACK.upper(),
        "https://app.example.com/callbac",
    ],
)
def test_unregistered_redirect_uri_is_an_error_page(authorize, web_app, redirect_uri):
    client, _ = web_app
    response = authorize(client, redirect_uri=redirect_uri)
    assert_error_page(response, "invalid_request")
    assert "not registered" in response.content.decode()


def test_missing_redirect_uri_with_several_registered_is_an_error_page(authorize, web_app):
    client, _ = web_app
    response = authorize(client, redirect_uri=None)
    assert_error_page(response, "invalid_request")


def test_duplicated_redirect_uri_is_an_error_page(browser, web_app):
    client, _ = web_app
    url = authorize_url(response_type="code", client_id=client.client_id, redirect_uri=CALLBACK)
    response = browser.get(url + "&redirect_uri=" + OTHER_CALLBACK)
    assert_error_page(response, "invalid_request")


def test_missing_redirect_uri_uses_the_only_registered_one(authorize, spa):
    spa.first_party = True
    spa.save()
    response = authorize(spa, redirect_uri=None)
    params = assert_redirect_params(response)
    assert response["Location"].startswith(CALLBACK + "?")
    assert params["code"]
    assert AuthorizationCode.objects.get().redirect_uri == ""


# --- errors redirected with state and iss (§4.1.2.1, RFC 9207) -------------------------------


def test_missing_response_type(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(authorize(client, response_type=None), "invalid_request")


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token"])
def test_other_response_types_are_unsupported(authorize, web_app, response_type):
    client, _ = web_app
    assert_redirect_error(
        authorize(client, response_type=response_type), "unsupported_response_type"
    )


def test_state_is_omitted_when_not_sent(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(
        authorize(client, response_type="token", state=None),
        "unsupported_response_type",
        state=None,
    )


def test_duplicated_parameter_is_invalid_request(browser, web_app):
    client, _ = web_app
    url = authorize_url(
        response_type="code", client_id=client.client_id, redirect_uri=CALLBACK, state="st-123"
    )
    assert_redirect_error(browser.get(url + "&scope=openid&scope=email"), "invalid_request")


def test_unknown_response_mode_is_invalid_request_sent_by_query(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(authorize(client, response_mode="fragment"), "invalid_request")


def test_client_without_the_code_grant_is_unauthorized(authorize, db):
    client = provisioning.create_client(
        name="M2M", grant_types=["client_credentials"], redirect_uris=[CALLBACK]
    ).client
    assert_redirect_error(authorize(client), "unauthorized_client")


def test_unknown_audience_is_invalid_target(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(
        authorize(client, audience="https://unknown.example.com"), "invalid_target"
    )


def test_no_openid_and_no_audience_is_invalid_scope(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(authorize(client, scope="profile"), "invalid_scope")


@pytest.mark.parametrize(
    ("prompt", "error"),
    [
        ("bogus", "invalid_request"),
        ("none login", "invalid_request"),
        ("none consent", "invalid_request"),
    ],
)
def test_bad_prompt(authorize, web_app, prompt, error):
    client, _ = web_app
    assert_redirect_error(authorize(client, prompt=prompt), error)


@pytest.mark.parametrize("max_age", ["-1", "abc", "1.5", "99999999999"])
def test_bad_max_age(authorize, web_app, max_age):
    client, _ = web_app
    assert_redirect_error(authorize(client, max_age=max_age), "invalid_request")


def test_request_objects_are_not_supported(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(
        authorize(client, request="eyJhbGciOiJub25lIn0.e30."), "request_not_supported"
    )


def test_unknown_request_uri_is_an_error_page(authorize, web_app):
    """RFC 9126 §4: the redirect_uri is inside the pushed request, so nothing is redirected."""
    client, _ = web_app
    response = authorize(client, request_uri="urn:ietf:params:oauth:request_uri:abc")
    assert_error_page(response, "invalid_request_uri")


def test_malformed_dpop_jkt_is_invalid_request(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(authorize(client, dpop_jkt="not a thumbprint"), "invalid_request")


def test_post_is_accepted_like_get(browser, web_app, pkce):
    """OIDC Core §3.1.2.1: the request may be form-serialized in a POST (no CSRF token)."""
    client, _ = web_app
    client.first_party = True
    client.save()
    browser.handler.enforce_csrf_checks = True
    response = browser.post(
        "/authorize",
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid",
            "state": "st-post",
            "code_challenge": pkce[1],
            "code_challenge_method": "S256",
        },
    )
    params = assert_redirect_params(response)
    assert params["state"] == "st-post" and params["code"]


def test_other_methods_are_not_allowed(browser):
    assert browser.put("/authorize").status_code == 405


# --- PKCE (RFC 7636 §4.3, §4.4.1) ------------------------------------------------------------


def test_public_client_must_send_a_challenge(authorize, spa):
    params = assert_redirect_error(authorize(spa, code_challenge=None), "invalid_request")
    assert "PKCE" in params["error_description"]


def test_confidential_client_may_omit_pkce(authorize, web_app):
    client, _ = web_app
    client.first_party = True
    client.save()
    params = assert_redirect_params(authorize(client, code_challenge=None))
    assert params["code"]
    assert AuthorizationCode.objects.get().code_challenge == ""


@override_settings(OAUTH_TOKEN=oauth_settings_with(PKCE_REQUIRED=True))
def test_pkce_required_setting_covers_confidential_clients(authorize, web_app):
    client, _ = web_app
    assert_redirect_error(authorize(client, code_challenge=None), "invalid_request")


def test_plain_is_refused_by_default(authorize, spa):
    verifier = "a" * 43
    params = assert_redirect_error(
        authorize(spa, code_challenge=verifier, code_challenge_method="plain"), "invalid_request"
    )
    assert "plain" in params["error_description"]


def test_challenge_without_method_means_plain_and_is_refused(authorize, spa):
    assert_redirect_error(authorize(spa, code_challenge="a" * 43), "invalid_request")


@override_settings(OAUTH_TOKEN=oauth_settings_with(PKCE_ALLOW_PLAIN=True))
def test_plain_is_accepted_when_allowed(authorize, spa):
    spa.first_party = True
    spa.save()
    params = assert_redirect_params(
        authorize(spa, code_challenge="a" * 50, code_challenge_method="plain")
    )
    assert params["code"]
    code = AuthorizationCode.objects.get()
    assert (code.code_challenge, code.code_challenge_method) == ("a" * 50, "plain")


@pytest.mark.parametrize(
    ("challenge", "method"),
    [
        ("short", "S256"),
        ("a" * 44, "S256"),  # an S256 challenge is exactly 43 characters
        ("a" * 42 + "=", "S256"),
        ("a" * 43, "S512"),
        (None, "S256"),
    ],
)
def test_malformed_challenges(authorize, spa, challenge, method):
    assert_redirect_error(
        authorize(spa, code_challenge=challenge, code_challenge_method=method), "invalid_request"
    )


# --- what a code is bound to -----------------------------------------------------------------


def test_code_is_bound_to_the_request(authorize, web_app, offline_api, pkce, user):
    client, _ = web_app
    client.first_party = True
    client.save()
    response = authorize(
        client,
        scope="openid email offline_access read:things unknown:scope",
        audience=API,
        nonce="n-0S6_WzA2Mj",
        code_challenge=pkce[1],
        code_challenge_method="S256",
        dpop_jkt=JKT,
        redirect_uri=OTHER_CALLBACK,
    )
    params = assert_redirect_params(response)
    assert response["Location"].startswith(OTHER_CALLBACK + "?")
    assert set(params) == {"code", "state", "iss"}
    assert params["iss"] == ISSUER
    assert len(params["code"]) == 43  # 256 bits, base64url
    code = AuthorizationCode.objects.get()
    assert params["code"] not in code.code_digest  # stored only as a digest
    assert code.client == client and code.user == user
    assert code.redirect_uri == OTHER_CALLBACK
    assert code.scopes == ["openid", "email", "offline_access", "read:things"]
    assert code.audience == API
    assert code.nonce == "n-0S6_WzA2Mj"
    assert (code.code_challenge, code.code_challenge_method) == (pkce[1], "S256")
    assert code.dpop_jkt == JKT
    assert code.used_at is None
    assert 59 <= (code.expires_at - code.created_at).total_seconds() <= 61
    assert Consent.objects.count() == 0  # first-party: nothing asked, nothing stored


def test_offline_access_is_dropped_when_the_api_does_not_allow_it(authorize, web_app, api):
    client, _ = web_app
    client.first_party = True
    client.save()
    assert_redirect_params(
        authorize(client, scope="openid offline_access read:things", audience=API)
    )
    assert AuthorizationCode.objects.get().scopes == ["openid", "read:things"]


def test_offline_access_is_dropped_without_the_refresh_grant(authorize, offline_api, db):
    client = provisioning.create_client(
        name="No refresh",
        grant_types=["authorization_code"],
        redirect_uris=[CALLBACK],
        first_party=True,
    ).client
    assert_redirect_params(authorize(client, scope="openid offline_access", audience=API))
    assert AuthorizationCode.objects.get().scopes == ["openid"]


@override_settings(OAUTH_TOKEN=oauth_settings_with(DEFAULT_AUDIENCE=API))
def test_default_audience_applies_without_audience(authorize, web_app, api):
    client, _ = web_app
    client.first_party = True
    client.save()
    assert_redirect_params(authorize(client, scope="openid read:things"))
    assert AuthorizationCode.objects.get().audience == API


def test_redirect_uri_query_is_preserved(authorize, db):
    client = provisioning.create_client(
        name="Q", redirect_uris=["https://app.example.com/cb?tenant=a"], first_party=True
    ).client
    response = authorize(client, redirect_uri="https://app.example.com/cb?tenant=a")
    assert response["Location"].startswith("https://app.example.com/cb?tenant=a&")
    assert assert_redirect_params(response)["tenant"] == "a"


def test_native_app_private_use_scheme(authorize, db):
    client = provisioning.create_client(
        name="Native",
        client_type="public",
        redirect_uris=["com.example.app:/oauth2redirect"],
        first_party=True,
    ).client
    response = authorize(client, redirect_uri="com.example.app:/oauth2redirect")
    assert response.status_code == 302
    assert response["Location"].startswith("com.example.app:/oauth2redirect?code=")


@pytest.mark.parametrize("uri", ["javascript:alert(1)//", "data:text/html,hi", "JavaScript:x"])
def test_executable_redirect_schemes_are_never_followed(authorize, db, uri):
    """Even if such a URI reached the database (an admin edit), /authorize never sends a
    browser there; provisioning refuses it in the first place."""
    from django.core.exceptions import ValidationError

    from oauth_token.models import Client

    with pytest.raises(ValidationError):
        provisioning.create_client(name="Bad", redirect_uris=[uri])
    client = Client.objects.create(
        name="Edited", grant_types=["authorization_code"], redirect_uris=[uri], first_party=True
    )
    response = authorize(client, redirect_uri=uri)
    assert_error_page(response, "invalid_request")
    assert AuthorizationCode.objects.count() == 0


def test_oversized_parameter_is_invalid_request(authorize, web_app):
    client, _ = web_app
    params = assert_redirect_error(authorize(client, nonce="n" * 9000), "invalid_request")
    assert "too long" in params["error_description"]
