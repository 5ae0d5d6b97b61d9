"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): off by
default; when on, an https client_id is fetched (over real TLS, from 127.0.0.1), validated,
cached by its HTTP headers and treated as a public client, through the real /authorize,
consent page and token endpoint."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oauth_token.checks import check_configuration
from oauth_token.core import outbound
from oauth_token.deploy_checks import check_deployment
from oauth_token.models import Client, Consent
from oauth_token.registry import client_metadata
from oauth_token.tokens import cleanup
from tests.authorize.helpers import CALLBACK, OTHER_CALLBACK, assert_redirect_params
from tests.client_metadata.fixtures import (
    DOCUMENT_PATH,
    assert_error_page,
    assert_invalid_client,
    authorize_as,
    consent_fields,
    fetches,
    publish,
)
from tests.queries import assert_no_query_but_change_generation, statements

pytestmark = pytest.mark.django_db


def _redeem(token_request: Any, client_id: str, code: str, verifier: str) -> Any:
    return token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
        }
    )


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


# --- off by default --------------------------------------------------------------------------


def test_off_by_default_a_url_client_id_is_an_unknown_client(
    trusted_certificate, https_site, browser, token_request
):
    client_id = publish(https_site)
    response, _ = authorize_as(browser, client_id)
    assert_error_page(response)
    assert_invalid_client(
        token_request(
            {
                "grant_type": "authorization_code",
                "client_id": client_id,
                "code": "x",
                "code_verifier": "y" * 43,
            }
        )
    )
    assert https_site.hits == []
    assert not Client.objects.filter(client_id=client_id).exists()


def test_discovery_advertises_support_only_when_on(client, settings, documents_on):
    on = client.get("/.well-known/oauth-authorization-server").json()
    assert on["client_id_metadata_document_supported"] is True
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CLIENT_ID_METADATA_DOCUMENTS": False}
    off = client.get("/.well-known/openid-configuration").json()
    assert "client_id_metadata_document_supported" not in off


# --- the flow --------------------------------------------------------------------------------


def test_authorization_code_flow_with_pkce_for_a_url_client_id(
    documents_on, https_site, browser, user, signing_keys, token_request
):
    client_id = publish(
        https_site,
        headers={"Cache-Control": "max-age=600"},
        post_logout_redirect_uris=["https://agent.example.org/signed-out"],
        backchannel_logout_uri="https://agent.example.org/backchannel",
    )
    response, verifier = authorize_as(browser, client_id)
    fields = consent_fields(response)
    html = response.content.decode()
    assert "Research Agent" in html
    assert "<strong>127.0.0.1</strong>" in html  # the document's host, beside its name

    done = browser.post("/authorize/decision", {**fields, "decision": "allow"})
    params = assert_redirect_params(done)
    assert done["Location"].startswith(CALLBACK + "?")
    tokens = _redeem(token_request, client_id, params["code"], verifier)

    assert tokens.status_code == 200, tokens.content
    body = tokens.json()
    assert _claims(body["access_token"])["client_id"] == client_id
    assert _claims(body["id_token"])["aud"] == client_id
    assert fetches(https_site) == 1  # /authorize, consent and token: one fetch
    row = Client.objects.get(client_id=client_id)
    assert (row.name, row.client_type, row.token_endpoint_auth_method) == (
        "Research Agent",
        "public",
        "none",
    )
    assert not row.first_party and row.secret_digest == ""
    assert row.redirect_uris == [CALLBACK]
    assert row.post_logout_redirect_uris == ["https://agent.example.org/signed-out"]
    assert row.backchannel_logout_uri == ""
    assert row.metadata_document_expires_at is not None
    assert Consent.objects.filter(client=row, user=user).exists()


def test_pkce_is_required_of_a_url_client(documents_on, https_site, browser):
    client_id = publish(https_site)
    response, _ = authorize_as(browser, client_id, code_challenge=None, code_challenge_method=None)
    params = assert_redirect_params(response)  # the redirect_uri is the document's: verified
    assert params["error"] == "invalid_request"
    assert "code" not in params


def test_consent_is_asked_on_every_authorization(documents_on, https_site, browser, user):
    client_id = publish(https_site, headers={"Cache-Control": "max-age=600"})
    response, _ = authorize_as(browser, client_id)
    browser.post("/authorize/decision", {**consent_fields(response), "decision": "allow"})
    again, _ = authorize_as(browser, client_id)
    consent_fields(again)
    silent, _ = authorize_as(browser, client_id, prompt="none")
    assert assert_redirect_params(silent)["error"] == "consent_required"


def test_without_client_name_the_host_is_the_name(documents_on, https_site, browser):
    client_id = publish(https_site, client_name=None)
    response, _ = authorize_as(browser, client_id)
    consent_fields(response)
    assert Client.objects.get(client_id=client_id).name == "127.0.0.1"


def test_a_secret_is_no_way_to_authenticate_a_url_client(documents_on, https_site, token_request):
    client_id = publish(https_site)
    response = token_request({"grant_type": "client_credentials"}, auth=(client_id, "guess"))
    assert_invalid_client(response)


# --- caching by HTTP headers -----------------------------------------------------------------


def test_document_is_not_fetched_again_within_its_max_age(documents_on, https_site, browser):
    client_id = publish(https_site, headers={"Cache-Control": "public, max-age=600"})
    for _ in range(3):
        consent_fields(authorize_as(browser, client_id)[0])
    assert fetches(https_site) == 1


def test_stale_document_is_fetched_again_and_its_new_redirect_uris_apply(
    settings, documents_on, https_site, browser
):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS": 1,
    }
    client_id = publish(https_site, headers={"Cache-Control": "max-age=1"})
    consent_fields(authorize_as(browser, client_id)[0])
    publish(https_site, redirect_uris=[OTHER_CALLBACK], headers={"Cache-Control": "max-age=1"})
    consent_fields(authorize_as(browser, client_id)[0])  # still fresh: the old document
    assert fetches(https_site) == 1

    time.sleep(1.2)
    assert_error_page(authorize_as(browser, client_id)[0], "invalid_request")  # old URI gone
    consent_fields(authorize_as(browser, client_id, redirect_uri=OTHER_CALLBACK)[0])
    assert fetches(https_site) == 2
    assert Client.objects.get(client_id=client_id).redirect_uris == [OTHER_CALLBACK]
    assert Client.objects.filter(client_id=client_id).count() == 1


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, 60),
        ({"cache-control": "max-age=600"}, 600),
        ({"cache-control": "max-age=600", "age": "100"}, 500),
        ({"cache-control": "no-store, max-age=600"}, 60),
        ({"cache-control": "no-cache"}, 60),
        ({"cache-control": "max-age=5"}, 60),
        ({"cache-control": "max-age=99999999"}, 86400),
        ({"cache-control": "max-age=ten"}, 60),
        (
            {"date": "Sun, 06 Dec 2026 01:00:00 GMT", "expires": "Sun, 06 Dec 2026 02:00:00 GMT"},
            3600,
        ),
        ({"expires": "0"}, 60),
    ],
)
def test_cache_lifetime_follows_the_headers_within_the_bounds(headers, seconds):
    assert client_metadata.cache_lifetime(headers) == seconds


def test_freshness_without_caching_headers_is_unknown():
    assert outbound.freshness_lifetime({"content-type": "application/json"}) is None


# --- operators -------------------------------------------------------------------------------


def test_turning_it_off_makes_document_clients_unknown(settings, documents_on, https_site, browser):
    client_id = publish(https_site, headers={"Cache-Control": "max-age=600"})
    consent_fields(authorize_as(browser, client_id)[0])
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CLIENT_ID_METADATA_DOCUMENTS": False}
    assert_error_page(authorize_as(browser, client_id)[0])
    assert fetches(https_site) == 1


def test_a_deactivated_document_client_is_refused_without_a_fetch(
    documents_on, https_site, browser
):
    client_id = publish(https_site)
    consent_fields(authorize_as(browser, client_id)[0])
    Client.objects.filter(client_id=client_id).update(is_active=False)
    Client.objects.get(client_id=client_id).save()  # the admin's save: caches dropped
    assert_error_page(authorize_as(browser, client_id)[0])
    assert fetches(https_site) == 1


def test_a_document_client_can_be_listed_by_the_client_command(
    documents_on, https_site, browser, capsys
):
    client_id = publish(https_site)
    consent_fields(authorize_as(browser, client_id)[0])
    call_command("oauth_client", "show", client_id, "--json")
    assert client_id in capsys.readouterr().out


@pytest.mark.parametrize(
    "values",
    [
        {"CLIENT_ID_METADATA_DOCUMENTS": "yes"},
        {"CLIENT_ID_METADATA_DOCUMENT_MAX_BYTES": 0},
        {"CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS": 0},
        {
            "CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS": 600,
            "CLIENT_ID_METADATA_DOCUMENT_MAX_CACHE_SECONDS": 60,
        },
        {"OUTBOUND_CA_FILE": "/nonexistent/ca.pem"},
    ],
)
def test_check_reports_a_bad_setting(settings, values):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **values}
    assert "oauth_token.E160" in [e.id for e in check_configuration()]


def test_check_accepts_the_defaults_and_a_real_ca_file(settings, documents_on):
    assert "oauth_token.E160" not in [e.id for e in check_configuration()]


def test_the_client_id_column_holds_a_long_url(documents_on, https_site, browser):
    path = "/" + "a" * 200 + DOCUMENT_PATH
    client_id = publish(https_site, path=path)
    assert len(client_id) > 230
    consent_fields(authorize_as(browser, client_id)[0])
    assert Client.objects.filter(client_id=client_id).exists()


def test_ordinary_clients_keep_their_query_free_hot_path_when_it_is_on(
    documents_on, signing_keys, m2m_client, token_request
):
    client, secret = m2m_client
    form = {"grant_type": "client_credentials", "audience": "https://api.example.com"}
    assert token_request(form, auth=(client.client_id, secret)).status_code == 200
    with assert_no_query_but_change_generation():
        assert token_request(form, auth=(client.client_id, secret)).status_code == 200


def test_a_document_client_is_served_from_the_cache_while_fresh(
    documents_on, https_site, browser, signing_keys, token_request
):
    client_id = publish(https_site, headers={"Cache-Control": "max-age=600"})
    consent_fields(authorize_as(browser, client_id)[0])
    form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": "unknown"}
    with CaptureQueriesContext(connection) as captured:
        response = token_request(form)
    assert response.json()["error"] == "invalid_grant"  # the client itself was found
    assert not [s for s in statements(captured) if '"oauth_token_client"' in s]
    assert fetches(https_site) == 1


def test_cleanup_deletes_stale_document_clients_nothing_refers_to(
    documents_on, https_site, browser, user
):
    used = publish(https_site, path="/used.json")
    unused = publish(https_site, path="/unused.json")
    blocked = publish(https_site, path="/blocked.json")
    for client_id in (used, unused, blocked):
        consent_fields(authorize_as(browser, client_id)[0])
    browser.post(
        "/authorize/decision",
        {**consent_fields(authorize_as(browser, used)[0]), "decision": "allow"},
    )
    Client.objects.filter(client_id=blocked).update(is_active=False)
    Client.objects.update(metadata_document_expires_at=timezone.now() - timedelta(days=2))

    assert cleanup.run()["unused_metadata_document_clients"] == 1
    left = set(Client.objects.values_list("client_id", flat=True))
    assert used in left and blocked in left and unused not in left
    consent_fields(authorize_as(browser, unused)[0])  # named again: fetched afresh
    assert Client.objects.filter(client_id=unused).exists()


def test_check_deploy_warns_when_anyone_could_aim_fetches_at_private_addresses(settings):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "CLIENT_ID_METADATA_DOCUMENTS": True,
        "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": True,
    }
    assert "oauth_token.W136" in [w.id for w in check_deployment()]
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": False}
    assert "oauth_token.W136" not in [w.id for w in check_deployment()]
