"""Registering a client's logout URIs with ``oauth_client create`` and in the admin: validated
by the same provisioning rules, and in effect at /oidc/logout at once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client as BrowserClient
from django.urls import reverse

from oauth_token.models import Client
from oauth_token.registry import provisioning
from tests.admin.test_admin_actions import _client_form
from tests.commands.conftest import assert_one_line_failure, run
from tests.logout.fixtures import logout_url

pytestmark = pytest.mark.django_db
BYE = "https://app.example/bye"


def test_create_with_logout_uris():
    doc = run(
        "oauth_client",
        "create",
        "--name",
        "Web",
        "--redirect-uri",
        "https://app.example/cb",
        "--post-logout-redirect-uri",
        BYE,
        "https://app.example/bye2",
        "--backchannel-logout-uri",
        "https://app.example/backchannel",
        "--json",
    ).json()
    assert doc["post_logout_redirect_uris"] == [BYE, "https://app.example/bye2"]
    assert doc["backchannel_logout_uri"] == "https://app.example/backchannel"
    shown = run("oauth_client", "show", doc["client_id"], "--json").json()
    assert shown["post_logout_redirect_uris"] == [BYE, "https://app.example/bye2"]
    response = BrowserClient().get(
        logout_url(client_id=doc["client_id"], post_logout_redirect_uri=BYE)
    )
    assert response.status_code == 302 and response["Location"] == BYE


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--post-logout-redirect-uri", "javascript:alert(1)", "scheme"),
        ("--post-logout-redirect-uri", "https://app.example/bye#x", "fragment"),
        ("--post-logout-redirect-uri", "/relative", "absolute"),
        ("--backchannel-logout-uri", "ftp://app.example/bc", "http(s)"),
        ("--backchannel-logout-uri", "https://app.example/bc#frag", "fragment"),
        ("--backchannel-logout-uri", "http://[::1/bc", "not a valid URI"),
        ("--post-logout-redirect-uri", "http://[::1/bye", "not a valid URI"),
        ("--backchannel-logout-uri", "http://10:8080/logout", "valid URL"),
        ("--backchannel-logout-uri", "http://rp:99999/logout", "valid URL"),
        ("--backchannel-logout-uri", "http://rp_1/logout", "valid URL"),
        ("--jwks-uri", "http://u:p@keys/jwks.json", "valid URL"),
    ],
)
def test_bad_logout_uris_are_one_line_errors(flag, value, fragment):
    result = run("oauth_client", "create", "--name", "Bad", flag, value)
    assert_one_line_failure(result, fragment)
    assert not Client.objects.exists()


def test_admin_saves_logout_settings(admin_client):
    response = admin_client.post(
        reverse("admin:oauth_token_client_add"),
        _client_form(
            grant_types=["authorization_code"],
            post_logout_redirect_uris=f"{BYE}\nhttps://app.example/bye2",
            backchannel_logout_uri="https://app.example/backchannel",
            backchannel_logout_session_required="on",
            revoke_refresh_tokens_on_logout="on",
        ),
    )
    # Saved: redirected to the one-time page that shows the new secret (Post/Redirect/Get).
    assert response.status_code == 302, response.content[:500]
    assert "/admin/oauth_token/client/secret/" in response["Location"]
    client = Client.objects.get(name="Admin-made")
    assert client.post_logout_redirect_uris == [BYE, "https://app.example/bye2"]
    assert client.backchannel_logout_uri == "https://app.example/backchannel"
    assert client.backchannel_logout_session_required
    assert client.revoke_refresh_tokens_on_logout
    page = admin_client.get(reverse("admin:oauth_token_client_change", args=[client.pk]))
    assert BYE in page.content.decode()


def test_admin_refuses_an_executable_post_logout_uri(admin_client):
    response = admin_client.post(
        reverse("admin:oauth_token_client_add"),
        _client_form(post_logout_redirect_uris="javascript:alert(1)"),
    )
    assert response.status_code == 200
    assert "scheme" in response.content.decode()
    assert not Client.objects.exists()


def test_update_replaces_the_logout_uris_and_validates_them():
    client_id = run("oauth_client", "create", "--name", "Web", "--json").json()["client_id"]
    doc = run(
        "oauth_client",
        "update",
        client_id,
        "--post-logout-redirect-uri",
        BYE,
        "--backchannel-logout-uri",
        "https://app.example/backchannel",
        "--json",
    ).json()
    assert doc["post_logout_redirect_uris"] == [BYE]
    assert doc["backchannel_logout_uri"] == "https://app.example/backchannel"
    unchanged = run("oauth_client", "update", client_id, "--name", "Renamed", "--json").json()
    assert unchanged["post_logout_redirect_uris"] == [BYE]
    refused = run("oauth_client", "update", client_id, "--post-logout-redirect-uri", "data:x")
    assert_one_line_failure(refused, "scheme")
    assert Client.objects.get(client_id=client_id).post_logout_redirect_uris == [BYE]
    response = BrowserClient().get(logout_url(client_id=client_id, post_logout_redirect_uri=BYE))
    assert response.status_code == 302 and response["Location"] == BYE


def test_backchannel_logout_session_required_round_trips_through_the_command():
    created = run(
        "oauth_client",
        "create",
        "--name",
        "Web",
        "--backchannel-logout-uri",
        "https://app.example/backchannel",
        "--backchannel-logout-session-required",
        "--json",
    ).json()
    assert created["backchannel_logout_session_required"] is True
    client_id = created["client_id"]
    assert Client.objects.get(client_id=client_id).backchannel_logout_session_required
    shown = run("oauth_client", "show", client_id, "--json").json()
    assert shown["backchannel_logout_session_required"] is True
    kept = run("oauth_client", "update", client_id, "--name", "Renamed", "--json").json()
    assert kept["backchannel_logout_session_required"] is True
    off = run(
        "oauth_client", "update", client_id, "--no-backchannel-logout-session-required", "--json"
    ).json()
    assert off["backchannel_logout_session_required"] is False
    plain = run("oauth_client", "create", "--name", "Plain", "--json").json()
    assert plain["backchannel_logout_session_required"] is False


def test_revoke_refresh_tokens_on_logout_round_trips_through_the_command():
    created = run(
        "oauth_client", "create", "--name", "Web", "--revoke-refresh-tokens-on-logout", "--json"
    ).json()
    assert created["revoke_refresh_tokens_on_logout"] is True
    client_id = created["client_id"]
    assert Client.objects.get(client_id=client_id).revoke_refresh_tokens_on_logout
    shown = run("oauth_client", "show", client_id, "--json").json()
    assert shown["revoke_refresh_tokens_on_logout"] is True
    listed = run("oauth_client", "list", "--json").json()
    assert [c["revoke_refresh_tokens_on_logout"] for c in listed] == [True]
    kept = run("oauth_client", "update", client_id, "--name", "Renamed", "--json").json()
    assert kept["revoke_refresh_tokens_on_logout"] is True
    off = run(
        "oauth_client", "update", client_id, "--no-revoke-refresh-tokens-on-logout", "--json"
    ).json()
    assert off["revoke_refresh_tokens_on_logout"] is False
    assert not Client.objects.get(client_id=client_id).revoke_refresh_tokens_on_logout
    on = run(
        "oauth_client", "update", client_id, "--revoke-refresh-tokens-on-logout", "--json"
    ).json()
    assert on["revoke_refresh_tokens_on_logout"] is True
    plain = run("oauth_client", "create", "--name", "Plain", "--json").json()
    assert plain["revoke_refresh_tokens_on_logout"] is False


def test_revoke_refresh_tokens_on_logout_is_in_the_command_help(capsys):
    for action in ("create", "update"):
        with pytest.raises(SystemExit):
            call_command("oauth_client", action, "--help")
        assert "--revoke-refresh-tokens-on-logout" in capsys.readouterr().out


def test_admin_shows_and_clears_backchannel_logout_session_required(admin_client):
    client = provisioning.create_client(
        name="Admin-made",
        redirect_uris=["https://app.example/cb"],
        backchannel_logout_uri="https://app.example/backchannel",
        backchannel_logout_session_required=True,
    ).client
    url = reverse("admin:oauth_token_client_change", args=[client.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="backchannel_logout_session_required"' in page
    assert "checked" in page.split('name="backchannel_logout_session_required"')[1].split(">")[0]
    response = admin_client.post(
        url,
        _client_form(
            grant_types=["authorization_code"],
            backchannel_logout_uri="https://app.example/backchannel",
        ),
    )
    assert response.status_code == 302, response.content[:500]
    client.refresh_from_db()
    assert not client.backchannel_logout_session_required


# --- single-label hosts (docker-compose service names) ----------------------------------------

SERVICE_LOGOUT = "http://rp:8080/logout"
SERVICE_JWKS = "http://keys:8080/jwks.json"


def test_the_command_accepts_service_name_hosts():
    created = run(
        "oauth_client",
        "create",
        "--name",
        "Compose RP",
        "--redirect-uri",
        "https://app.example/cb",
        "--backchannel-logout-uri",
        SERVICE_LOGOUT,
        "--auth-method",
        "private_key_jwt",
        "--jwks-uri",
        SERVICE_JWKS,
        "--json",
    ).json()
    assert created["backchannel_logout_uri"] == SERVICE_LOGOUT
    assert created["jwks_uri"] == SERVICE_JWKS
    updated = run(
        "oauth_client",
        "update",
        created["client_id"],
        "--backchannel-logout-uri",
        "https://rp-2:8443/logout",
        "--json",
    ).json()
    assert updated["backchannel_logout_uri"] == "https://rp-2:8443/logout"


def test_the_admin_accepts_service_name_hosts(admin_client):
    response = admin_client.post(
        reverse("admin:oauth_token_client_add"),
        _client_form(
            grant_types=["authorization_code"],
            token_endpoint_auth_method="private_key_jwt",
            jwks_uri=SERVICE_JWKS,
            backchannel_logout_uri=SERVICE_LOGOUT,
        ),
    )
    assert response.status_code == 302, response.content[:500]
    client = Client.objects.get(name="Admin-made")
    assert (client.jwks_uri, client.backchannel_logout_uri) == (SERVICE_JWKS, SERVICE_LOGOUT)


@pytest.mark.parametrize(
    "uri", ["http://10:8080/logout", "http://rp:99999/logout", "ftp://rp/logout", "http://[::1/x"]
)
def test_the_admin_refuses_what_is_no_callable_url(admin_client, uri):
    response = admin_client.post(
        reverse("admin:oauth_token_client_add"),
        _client_form(grant_types=["authorization_code"], backchannel_logout_uri=uri),
    )
    assert response.status_code == 200
    assert "Enter a valid URL" in response.content.decode()
    assert not Client.objects.exists()
