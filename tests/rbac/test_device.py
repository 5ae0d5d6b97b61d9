"""The device flow under RBAC: /activate shows only what the person can be granted, and the
device receives exactly that (RFC 8628 §3.3, §3.5)."""

from __future__ import annotations

import pytest
from django.test import Client as BrowserClient

from oauth_token.registry import roles
from tests.conftest import basic
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def test_activate_and_poll_under_rbac(
    make_client, rbac_api, bob, api_client, token_request, signing_keys
):
    roles.assign(
        roles.create_role(name="reader", api=rbac_api, permissions=["read:things"]), user=bob
    )
    client, secret = make_client(name="TV", grant_types=[DEVICE_GRANT])
    started = api_client.post(
        "/oauth/device/code",
        "scope=openid%20read:things%20write:things&audience=https://api.example.com",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    ).json()
    browser = BrowserClient()
    browser.force_login(bob)
    page = browser.get("/activate", {"user_code": started["user_code"]}).content.decode()
    assert "read:things" in page and "write:things" not in page
    allowed = browser.post("/activate", {"user_code": started["user_code"], "decision": "allow"})
    assert allowed.status_code == 200
    response = token_request(
        {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.json()
    assert response.json()["scope"] == "openid read:things"
    assert access_claims(response.json()["access_token"])["permissions"] == ["read:things"]
