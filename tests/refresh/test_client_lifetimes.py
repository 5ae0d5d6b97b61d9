"""Per-client refresh-token lifetimes (``oauth_client --refresh-token-lifetime
--refresh-idle-lifetime``): the client's value, else the settings'; 0 means unlimited; the
token endpoint's rotation and introspection use the same deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.registry import updates

pytestmark = pytest.mark.django_db


def _close(value, expected, slack=timedelta(seconds=10)) -> bool:
    return abs(value - expected) <= slack


def test_settings_apply_when_the_client_sets_nothing(offline_api, rt_client, start_family):
    client, _ = rt_client
    start_family(client)
    family = RefreshTokenFamily.objects.get()
    token = RefreshToken.objects.get()
    assert _close(family.expires_at, timezone.now() + timedelta(days=30))
    assert _close(token.idle_expires_at, timezone.now() + timedelta(days=15))


def test_the_clients_lifetimes_win(offline_api, rt_client, start_family, refresh):
    client, _ = rt_client
    updates.update_client(client, {"refresh_token_lifetime": 3600, "refresh_idle_lifetime": 600})
    issued = start_family(client)
    family = RefreshTokenFamily.objects.get()
    assert _close(family.expires_at, timezone.now() + timedelta(seconds=3600))
    assert _close(
        RefreshToken.objects.get().idle_expires_at, timezone.now() + timedelta(minutes=10)
    )
    # A rotation renews the idle deadline with the client's idle lifetime (now 900 s).
    updates.update_client(client, {"refresh_idle_lifetime": 900})
    response = refresh(issued.refresh_token)
    assert response.status_code == 200, response.json()
    successor = RefreshToken.objects.get(parent__isnull=False)
    assert _close(successor.idle_expires_at, timezone.now() + timedelta(seconds=900))
    family.refresh_from_db()
    assert _close(family.expires_at, timezone.now() + timedelta(seconds=3600))  # fixed at start


def test_zero_means_unlimited(offline_api, rt_client, start_family):
    client, _ = rt_client
    updates.update_client(client, {"refresh_token_lifetime": 0, "refresh_idle_lifetime": 0})
    start_family(client)
    assert RefreshTokenFamily.objects.get().expires_at is None
    assert RefreshToken.objects.get().idle_expires_at is None


def test_access_token_lifetime_falls_back_client_api_settings(offline_api, rt_client, start_family):
    client, _ = rt_client
    assert start_family(client).access_token.expires_in == 86400
    offline_api.access_token_lifetime = 900
    offline_api.save()
    assert start_family(client).access_token.expires_in == 900
    updates.update_client(client, {"access_token_lifetime": 300})
    issued = start_family(client)
    assert issued.access_token.expires_in == 300
    claims = issued.access_token.claims
    assert claims["exp"] - claims["iat"] == 300
