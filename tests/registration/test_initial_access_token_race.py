"""One initial access token (RFC 7591 §3) presented by twenty simultaneous registrations on
separate PostgreSQL connections: exactly one client is registered."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings

from oauth_token.models import Client, InitialAccessToken
from oauth_token.registry import registration
from tests.authorize.helpers import oauth_settings_with
from tests.race import race, requires_postgres

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, requires_postgres()]

PARALLEL = 20


@override_settings(
    OAUTH_TOKEN=oauth_settings_with(REGISTRATION="token", REGISTRATION_MAX_PER_IP=1000)
)
def test_one_initial_access_token_registers_exactly_one_client_under_a_race():
    assert connection.vendor == "postgresql"
    token, _ = registration.issue_initial_access_token(600)
    body = json.dumps({"redirect_uris": ["https://app.example.com/cb"]})

    def attempt() -> int:
        return (
            HttpClient()
            .post(
                "/oauth/register",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            .status_code
        )

    statuses = race(attempt, PARALLEL)
    assert sorted(statuses) == [201] + [401] * (PARALLEL - 1), statuses
    assert Client.objects.count() == 1
    assert InitialAccessToken.objects.get().client_id == Client.objects.get().pk
