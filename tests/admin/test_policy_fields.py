"""Client policies edited in the admin: token-exchange audiences and trusted issuers are
validated on save and take effect at the token endpoint at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from oauth_token.models import Client

from .test_admin_actions import _client_form

pytestmark = pytest.mark.django_db

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"
API = "https://api.example.com"


def _form(client: Client, **overrides: str) -> dict[str, Any]:
    return _client_form(
        name=client.name,
        grant_types=list(client.grant_types),
        redirect_uris="",
        **overrides,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("exchange_audiences", '{"audience": "x"}', "exchange_audiences must be a list"),
        ("exchange_audiences", '[{"audience": "x", "extra_scopes": "a"}]', "list of scope names"),
        ("trusted_issuers", '[{"issuer": "https://idp.example/"}]', "exactly one of"),
        ("trusted_issuers", '[{"issuer": "https://i/", "jwks_uri": "ftp://i"}]', "http(s) URL"),
    ],
)
def test_malformed_policies_are_refused_with_a_message(
    admin_client, make_client, field, value, message
):
    client, _ = make_client(name="Gateway", grant_types=[GRANT])
    url = reverse("admin:oauth_token_client_change", args=[client.pk])
    response = admin_client.post(url, _form(client, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    client.refresh_from_db()
    assert getattr(client, field) == []


def test_policy_saved_in_the_admin_applies_at_once(
    admin_client, make_client, token_request, api, signing_keys
):
    get_user_model().objects.create_user("alice", "a@example.com", "pw-alice-123")
    app, app_secret = make_client(name="App", grant_types=["password"])
    subject = token_request(
        {
            "grant_type": "password",
            "username": "alice",
            "password": "pw-alice-123",
            "audience": API,
            "scope": "read:things",
        },
        auth=(app.client_id, app_secret),
    ).json()["access_token"]
    gateway, secret = make_client(name="Gateway", grant_types=[GRANT])
    exchange = {
        "grant_type": GRANT,
        "subject_token": subject,
        "subject_token_type": AT,
        "audience": API,
    }
    refused = token_request(exchange, auth=(gateway.client_id, secret))
    assert refused.json()["error"] == "invalid_target"

    url = reverse("admin:oauth_token_client_change", args=[gateway.pk])
    policy = [{"audience": API, "sources": [app.client_id]}]
    saved = admin_client.post(url, _form(gateway, exchange_audiences=json.dumps(policy)))
    assert saved.status_code == 302
    response = token_request(exchange, auth=(gateway.client_id, secret))
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:things"
