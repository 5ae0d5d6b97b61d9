"""Attacks on self-registration (RFC 7591/7592) and resource indicators (RFC 8707), each named
after the attack; each fails if its defence is removed."""

from __future__ import annotations

import pytest
from django.test import override_settings

from oauth_token.models import Client
from tests.authorize.helpers import oauth_settings_with

pytestmark = pytest.mark.django_db

OPEN = override_settings(OAUTH_TOKEN=oauth_settings_with(REGISTRATION="open"))
METADATA = {"redirect_uris": ["https://app.example.com/cb"], "client_name": "Mallory"}


def register(api_client, body, **headers):
    return api_client.post("/oauth/register", body, format="json", **headers)


@OPEN
def test_registration_access_token_of_one_client_cannot_manage_another(api_client):
    mine = register(api_client, METADATA).json()
    victim = register(api_client, {**METADATA, "client_name": "Victim"}).json()
    stolen_path = f"/oauth/register/{victim['client_id']}"
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {mine['registration_access_token']}"}
    assert api_client.get(stolen_path, **bearer).status_code == 401
    assert api_client.delete(stolen_path, **bearer).status_code == 401
    update = {**METADATA, "client_id": victim["client_id"], "redirect_uris": ["https://evil/cb"]}
    assert api_client.put(stolen_path, update, format="json", **bearer).status_code == 401
    assert Client.objects.get(client_id=victim["client_id"]).redirect_uris == [
        "https://app.example.com/cb"
    ]


@OPEN
def test_self_registered_client_cannot_make_itself_first_party_or_an_introspector(api_client):
    body = register(
        api_client,
        {**METADATA, "first_party": True, "can_introspect": True, "require_dpop": False},
    ).json()
    client = Client.objects.get(client_id=body["client_id"])
    assert client.first_party is False
    assert client.can_introspect is False
    assert "first_party" not in body


@OPEN
@pytest.mark.parametrize(
    "grant",
    [
        "password",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
)
def test_self_registered_client_cannot_grant_itself_trusted_grants(api_client, grant):
    response = register(api_client, {**METADATA, "grant_types": ["authorization_code", grant]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not Client.objects.exists()


@OPEN
def test_self_registered_redirect_to_a_remote_http_host_is_refused(api_client):
    response = register(api_client, {**METADATA, "redirect_uris": ["http://evil.example/cb"]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


@OPEN
def test_old_registration_access_token_is_useless_after_rotation(api_client):
    body = register(api_client, METADATA).json()
    path = f"/oauth/register/{body['client_id']}"
    old = {"HTTP_AUTHORIZATION": f"Bearer {body['registration_access_token']}"}
    assert (
        api_client.put(
            path, {**METADATA, "client_id": body["client_id"]}, format="json", **old
        ).status_code
        == 200
    )
    assert api_client.delete(path, **old).status_code == 401
    assert Client.objects.filter(client_id=body["client_id"]).exists()


def test_registration_is_refused_while_closed_even_with_a_bearer_token(api_client):
    response = register(api_client, METADATA, HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 403
    assert not Client.objects.exists()
