"""``oauth_client update`` and ``oauth_api update`` (DESIGN.md, command-line contract): an
option given replaces the stored value, one not given leaves it unchanged; a repeated option
replaces the whole list; bad input is one line and a non-zero exit, with nothing changed."""

from __future__ import annotations

import pytest

from oauth_token.models import Api, Client, ClientGrant
from oauth_token.registry import provisioning

from .conftest import assert_one_line_failure

pytestmark = pytest.mark.django_db


def _client(**kwargs):
    kwargs.setdefault("name", "Web")
    kwargs.setdefault("redirect_uris", ["https://app.example/cb"])
    return provisioning.create_client(**kwargs).client


def test_client_update_changes_only_what_is_given(manage):
    client = _client(first_party=True)
    doc = manage(
        "oauth_client",
        "update",
        client.client_id,
        "--name",
        "Renamed",
        "--redirect-uri",
        "https://new.example/cb https://other.example/cb",
        "--access-token-lifetime",
        "300",
        "--refresh-token-lifetime",
        "7200",
        "--refresh-idle-lifetime",
        "600",
        "--json",
    ).json()
    assert doc["name"] == "Renamed"
    assert doc["redirect_uris"] == ["https://new.example/cb", "https://other.example/cb"]
    assert doc["first_party"] is True  # not given: unchanged
    assert doc["grant_types"] == ["authorization_code", "refresh_token"]
    assert doc["access_token_lifetime"] == 300
    assert doc["refresh_token_lifetime"] == 7200
    assert doc["refresh_idle_lifetime"] == 600
    assert "client_secret" not in doc
    client.refresh_from_db()
    assert client.name == "Renamed" and client.access_token_lifetime == 300


def test_client_update_flags_turn_on_and_off(manage):
    client = _client(first_party=True)
    doc = manage(
        "oauth_client",
        "update",
        client.client_id,
        "--no-first-party",
        "--can-introspect",
        "--require-dpop",
        "--json",
    ).json()
    assert (doc["first_party"], doc["can_introspect"], doc["require_dpop"]) == (
        False,
        True,
        True,
    )
    assert doc["require_par"] is False


def test_client_update_grant_types_replace_the_list(manage):
    client = _client()
    doc = manage(
        "oauth_client", "update", client.client_id, "--grant-type", "client_credentials", "--json"
    ).json()
    assert doc["grant_types"] == ["client_credentials"]


def test_client_update_to_a_secret_method_prints_the_new_secret_once(manage):
    client = _client(
        client_type="confidential",
        auth_method="private_key_jwt",
        jwks_uri="https://app.example/jwks.json",
    )
    assert client.secret_digest == ""
    doc = manage(
        "oauth_client", "update", client.client_id, "--auth-method", "client_secret_post", "--json"
    ).json()
    assert doc["auth_method"] == "client_secret_post"
    assert len(doc["client_secret"]) >= 32
    client.refresh_from_db()
    assert client.secret_digest and doc["client_secret"] not in client.secret_digest


def test_client_update_keeps_the_secret_when_the_method_keeps_one(manage):
    created = provisioning.create_client(name="M2M", grant_types=["client_credentials"])
    before = created.client.secret_digest
    doc = manage(
        "oauth_client",
        "update",
        created.client.client_id,
        "--auth-method",
        "client_secret_post",
        "--json",
    ).json()
    assert "client_secret" not in doc
    created.client.refresh_from_db()
    assert created.client.secret_digest == before


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--grant-type", "magic"), "Unknown grant type"),
        (("--redirect-uri", "javascript:alert(1)"), "scheme"),
        (("--auth-method", "none"), "confidential client"),
        (("--access-token-lifetime", "0"), "--access-token-lifetime"),
        (("--refresh-idle-lifetime", "soon"), "--refresh-idle-lifetime"),
        (("--type", "public"), "--type"),
    ],
)
def test_client_update_bad_input_is_one_line_and_changes_nothing(manage, argv, fragment):
    client = _client()
    before = Client.objects.filter(pk=client.pk).values().get()
    result = manage("oauth_client", "update", client.client_id, *argv, "--json")
    assert_one_line_failure(result, fragment)
    assert Client.objects.filter(pk=client.pk).values().get() == before


def test_client_update_unknown_client(manage):
    assert_one_line_failure(
        manage("oauth_client", "update", "nope", "--name", "x"), "No client with client_id"
    )


def test_client_create_takes_lifetimes(manage):
    doc = manage(
        "oauth_client",
        "create",
        "--name",
        "Short",
        "--grant-type",
        "client_credentials",
        "--access-token-lifetime",
        "120",
        "--json",
    ).json()
    assert doc["access_token_lifetime"] == 120
    assert doc["refresh_token_lifetime"] is None
    assert Client.objects.get(client_id=doc["client_id"]).access_token_lifetime == 120


# --- oauth_api update ------------------------------------------------------------------------


def test_api_create_with_rbac_and_permissions_in_token(manage):
    doc = manage(
        "oauth_api",
        "create",
        "--identifier",
        "https://orders.example",
        "--name",
        "Orders",
        "--rbac",
        "--permissions-in-token",
        "--json",
    ).json()
    assert doc["rbac"] is True and doc["permissions_in_token"] is True


def test_api_permissions_in_token_without_rbac_is_refused(manage):
    result = manage(
        "oauth_api", "create", "--identifier", "u", "--name", "n", "--permissions-in-token"
    )
    assert_one_line_failure(result, "RBAC")
    assert not Api.objects.exists()


def test_api_update_changes_only_what_is_given(manage, api):
    doc = manage(
        "oauth_api",
        "update",
        api.identifier,
        "--token-lifetime",
        "900",
        "--allow-offline-access",
        "--rbac",
        "--json",
    ).json()
    assert doc["token_lifetime"] == 900
    assert doc["allow_offline_access"] is True
    assert doc["rbac"] is True
    assert doc["permissions_in_token"] is False
    assert doc["name"] == "Example API"
    assert doc["scopes"] == ["delete:things", "read:things", "write:things"]
    doc = manage(
        "oauth_api", "update", api.identifier, "--no-offline-access", "--no-rbac", "--json"
    ).json()
    assert doc["allow_offline_access"] is False and doc["rbac"] is False
    assert doc["token_lifetime"] == 900


def test_api_update_scopes_replace_the_list_and_leave_grants(manage, api, make_client):
    client, _ = make_client()
    provisioning.grant(client, api, ["read:things", "delete:things"])
    doc = manage(
        "oauth_api",
        "update",
        api.identifier,
        "--scope",
        "read:things",
        "--scope",
        "audit:things",
        "--json",
    ).json()
    assert doc["scopes"] == ["audit:things", "read:things"]
    # A scope the API no longer defines is no longer granted.
    assert ClientGrant.objects.get(client=client).scopes == ["read:things"]


def test_api_update_is_seen_by_the_token_endpoint_at_once(
    manage, api, m2m_client, token_request, signing_keys
):
    client, secret = m2m_client
    body = {"grant_type": "client_credentials", "audience": api.identifier}
    assert token_request(body, auth=(client.client_id, secret)).json()["expires_in"] == 86400
    manage("oauth_api", "update", api.identifier, "--token-lifetime", "60")
    assert token_request(body, auth=(client.client_id, secret)).json()["expires_in"] == 60
    manage("oauth_client", "update", client.client_id, "--access-token-lifetime", "30")
    assert token_request(body, auth=(client.client_id, secret)).json()["expires_in"] == 30


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--scope", 'bad"scope'), "Invalid scope name"),
        (("--token-lifetime", "-1"), "--token-lifetime"),
        (("--rbac", "--no-rbac"), "not allowed with"),
        (("--permissions-in-token",), "RBAC"),
    ],
)
def test_api_update_bad_input_is_one_line_and_changes_nothing(manage, api, argv, fragment):
    before = (Api.objects.filter(pk=api.pk).values().get(), list(api.scopes.values("name")))
    result = manage("oauth_api", "update", api.identifier, *argv)
    assert_one_line_failure(result, fragment)
    after = (Api.objects.filter(pk=api.pk).values().get(), list(api.scopes.values("name")))
    assert after == before


def test_api_update_unknown_api(manage):
    assert_one_line_failure(
        manage("oauth_api", "update", "https://nowhere", "--name", "x"), "No API with identifier"
    )
