from __future__ import annotations

import pytest

from oauth_token.models import ClientGrant

from .conftest import assert_one_line_failure

pytestmark = pytest.mark.django_db


def test_grant_chosen_scopes(manage, make_client, api):
    client, _ = make_client()
    doc = manage(
        "oauth_grant",
        "--client",
        client.client_id,
        "--audience",
        api.identifier,
        "--scope",
        "read:things",
        "--scope",
        "write:things",
        "--json",
    ).json()
    assert doc == {
        "client_id": client.client_id,
        "audience": api.identifier,
        "scopes": ["read:things", "write:things"],
    }
    assert ClientGrant.objects.get(client=client, api=api).scopes == doc["scopes"]


def test_grant_without_scope_grants_all_and_replaces_existing(manage, make_client, api):
    client, _ = make_client()
    manage(
        "oauth_grant",
        "--client",
        client.client_id,
        "--audience",
        api.identifier,
        "--scope",
        "read:things",
    )
    doc = manage(
        "oauth_grant", "--client", client.client_id, "--audience", api.identifier, "--json"
    ).json()
    assert doc["scopes"] == ["delete:things", "read:things", "write:things"]
    assert ClientGrant.objects.filter(client=client).count() == 1


def test_grant_takes_effect_on_next_token_request(
    manage, make_client, api, signing_keys, token_request
):
    client, secret = make_client()
    data = {"grant_type": "client_credentials", "audience": api.identifier}
    denied = token_request(data, auth=(client.client_id, secret))
    assert (denied.status_code, denied.json()["error"]) == (400, "access_denied")
    manage(
        "oauth_grant",
        "--client",
        client.client_id,
        "--audience",
        api.identifier,
        "--scope",
        "read:things",
    )
    response = token_request(data, auth=(client.client_id, secret))
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:things"


def test_grant_for_client_without_client_credentials_notes_it_on_stderr(manage, make_client, api):
    client, _ = make_client(grant_types=["authorization_code"])
    result = manage(
        "oauth_grant", "--client", client.client_id, "--audience", api.identifier, "--json"
    )
    assert result.json()["scopes"]
    assert "client_credentials" in result.err


@pytest.mark.parametrize(
    ("client_id", "audience", "scope", "message"),
    [
        ("nope", "https://api.example.com", "read:things", "No client"),
        (None, "https://other.example", "read:things", "No API"),
        (None, "https://api.example.com", "fly:things", "fly:things"),
    ],
)
def test_grant_errors(manage, make_client, api, client_id, audience, scope, message):
    client, _ = make_client()
    result = manage(
        "oauth_grant",
        "--client",
        client_id or client.client_id,
        "--audience",
        audience,
        "--scope",
        scope,
        "--json",
    )
    assert_one_line_failure(result, message)
    assert not ClientGrant.objects.exists()
