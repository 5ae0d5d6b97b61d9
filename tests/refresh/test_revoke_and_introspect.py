"""Refresh tokens at POST /oauth/revoke (RFC 7009) and POST /oauth/introspect (RFC 7662)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from oauth_token.models import RefreshToken, RefreshTokenFamily, RevokedAccessToken
from oauth_token.tokens.revocation import is_revoked
from tests.conftest import basic

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(api_client: Any):
    def send(path: str, data: dict[str, str], auth: tuple[str, str]) -> Any:
        return api_client.generic(
            "POST",
            path,
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic(*auth),
        )

    return send


@pytest.fixture
def issued(offline_api, rt_client, start_family):
    client, _ = rt_client
    return start_family(client)


@pytest.fixture
def resource_server(make_client):
    client, secret = make_client(name="Orders API", can_introspect=True)
    return client.client_id, secret


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
def test_revoking_a_refresh_token_revokes_its_family(post, issued, rt_client, refresh, hint):
    client, secret = rt_client
    data = {"token": issued.refresh_token}
    if hint:
        data["token_type_hint"] = hint

    response = post("/oauth/revoke", data, (client.client_id, secret))

    assert response.status_code == 200 and response.content == b""
    family = RefreshTokenFamily.objects.get()
    assert family.revoked_reason == "revoked by client"
    assert is_revoked(issued.access_token.jti)
    refused = refresh(issued.refresh_token)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_another_client_cannot_revoke_it(post, issued, make_client, refresh):
    other, secret = make_client(name="Other", grant_types=None)
    response = post("/oauth/revoke", {"token": issued.refresh_token}, (other.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert RefreshTokenFamily.objects.get().revoked_at is None
    assert not RevokedAccessToken.objects.exists()
    assert refresh(issued.refresh_token).status_code == 200


def test_introspection_of_an_active_refresh_token(post, issued, rt_client, resource_server):
    client, _ = rt_client
    family = RefreshTokenFamily.objects.get()
    token = RefreshToken.objects.get()

    response = post("/oauth/introspect", {"token": issued.refresh_token}, resource_server)

    assert response.status_code == 200
    assert response.json() == {
        "active": True,
        "scope": "openid profile read:things write:things offline_access",
        "client_id": client.client_id,
        "sub": family.subject,
        "iss": "https://auth.example.test/",
        "aud": "https://api.example.com",
        "iat": int(token.created_at.timestamp()),
        "exp": int(min(family.expires_at, token.idle_expires_at).timestamp()),
        "token_type": "refresh_token",
    }


def test_introspection_of_rotated_revoked_or_expired_refresh_tokens(
    post, issued, refresh, resource_server
):
    successor = refresh(issued.refresh_token).json()["refresh_token"]

    def active(value: str) -> bool:
        return post("/oauth/introspect", {"token": value}, resource_server).json()["active"]

    assert active(issued.refresh_token) is False  # rotated
    assert active(successor) is True
    RefreshToken.objects.update(idle_expires_at=timezone.now() - timedelta(seconds=1))
    assert active(successor) is False
    RefreshToken.objects.update(idle_expires_at=None)
    assert active(successor) is True
    RefreshTokenFamily.objects.update(revoked_at=timezone.now())
    assert post("/oauth/introspect", {"token": successor}, resource_server).json() == {
        "active": False
    }
