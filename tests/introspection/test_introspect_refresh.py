"""POST /oauth/introspect (RFC 7662) for refresh tokens."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_token.models import RefreshToken
from tests.inspection_fixtures import OFFLINE_API

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource_server(make_client: Any) -> tuple[str, str]:
    client, secret = make_client(name="Orders API", can_introspect=True)
    return client.client_id, secret


def test_active_refresh_token_has_its_members(
    post_form, offline_login, app, alice, resource_server
):
    tokens = offline_login(app)
    body = post_form(
        "/oauth/introspect", {"token": tokens["refresh_token"]}, auth=resource_server
    ).json()
    row = RefreshToken.objects.get()
    assert body == {
        "active": True,
        "scope": "read:things offline_access",
        "client_id": app[0],
        "sub": str(alice.pk),
        "aud": OFFLINE_API,
        "iss": "https://auth.example.test/",
        "iat": int(row.created_at.timestamp()),
        "exp": int(min(row.family.expires_at, row.idle_expires_at).timestamp()),
        "token_type": "refresh_token",
    }


def test_revoked_and_rotated_refresh_tokens_are_inactive(
    post_form, offline_login, app, token_request, resource_server
):
    tokens = offline_login(app)
    rotated = token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=app
    ).json()
    used = post_form("/oauth/introspect", {"token": tokens["refresh_token"]}, auth=resource_server)
    assert used.json() == {"active": False}
    current = post_form(
        "/oauth/introspect", {"token": rotated["refresh_token"]}, auth=resource_server
    )
    assert current.json()["active"] is True
    assert (
        post_form("/oauth/revoke", {"token": rotated["refresh_token"]}, auth=app).status_code == 200
    )
    revoked = post_form(
        "/oauth/introspect", {"token": rotated["refresh_token"]}, auth=resource_server
    )
    assert revoked.json() == {"active": False}
    access = post_form(
        "/oauth/introspect", {"token": rotated["access_token"]}, auth=resource_server
    )
    assert access.json() == {"active": False}
