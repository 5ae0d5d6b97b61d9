"""The quickstart's provisioning, in-process against the test database."""

from __future__ import annotations

import pytest
from demo import setup
from django.contrib.auth import authenticate

from oauth_token.models import Api, Client, ClientGrant, SigningKey

pytestmark = pytest.mark.django_db


def test_provision_creates_key_api_client_grant_and_user(token_request):
    creds = setup.provision()
    assert creds.created_key
    assert sorted(SigningKey.objects.values_list("state", flat=True)) == ["current", "next"]
    api = Api.objects.get(identifier="https://api.example.com")
    assert api.allow_offline_access
    assert sorted(api.scopes.values_list("name", flat=True)) == ["read:things", "write:things"]
    client = Client.objects.get(client_id=creds.client_id)
    assert client.grant_types == ["client_credentials"]
    assert ClientGrant.objects.get(client=client, api=api).scopes == [
        "read:things",
        "write:things",
    ]
    assert authenticate(username="demo", password=setup.DEMO_PASSWORD) is not None
    response = token_request(
        {"grant_type": "client_credentials", "audience": creds.audience},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:things write:things"


def test_second_provision_is_idempotent_and_prints_usable_credentials(token_request):
    first = setup.provision()
    second = setup.provision()
    assert not second.created_key
    assert second.client_id == first.client_id
    assert second.client_secret != first.client_secret
    assert SigningKey.objects.count() == 2
    assert Api.objects.count() == Client.objects.count() == ClientGrant.objects.count() == 1
    data = {"grant_type": "client_credentials", "audience": "https://api.example.com"}
    old = token_request(data, auth=(first.client_id, first.client_secret))
    assert old.status_code == 401
    new = token_request(data, auth=(second.client_id, second.client_secret))
    assert new.status_code == 200


def test_existing_demo_user_password_is_left_alone(django_user_model):
    django_user_model.objects.create_user(username="demo", password="changed-by-operator")
    setup.provision()
    assert authenticate(username="demo", password="changed-by-operator") is not None
