"""Concurrent redemptions of one authorization code, on PostgreSQL with real parallel
connections (RFC 6749 §4.1.2, §10.5; DESIGN.md "Storage and scale").

Each thread is a separate Django connection, released together by a barrier, so the token
requests really race for the code's row. Exactly one may win. Every other one is a second use
of the code, so it is refused and revokes what the winner was issued.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings as django_settings
from django.test import Client as HttpClient

from oauth_token.models import AuthorizationCode, RefreshTokenFamily, RevokedAccessToken
from tests.authorize.fixtures import *  # noqa: F403
from tests.authorize.helpers import API, CALLBACK
from tests.conftest import basic
from tests.race import race

POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
N = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES,
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): the race is between row locks "
        "of separate server connections; SQLite serialises the whole database instead",
    ),
    pytest.mark.django_db(transaction=True),
]


def redeem(code: str, verifier: str, client_id: str, secret: str) -> tuple[int, dict[str, Any]]:
    response = HttpClient().generic(
        "POST",
        "/oauth/token",
        urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic(client_id, secret),
    )
    return response.status_code, response.json()


def test_twenty_concurrent_redemptions_exactly_one_wins(
    signing_keys, first_party_app, offline_api, obtain_code
):
    client, secret = first_party_app
    code, verifier = obtain_code(client, scope="openid offline_access read:things", audience=API)
    assert verifier is not None

    results = race(lambda: redeem(code, verifier, client.client_id, secret), N)

    assert not [r for r in results if isinstance(r, BaseException)], results
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1, [s for s, _ in results]
    assert len(losers) == N - 1
    assert all(body["error"] == "invalid_grant" for body in losers), losers
    row = AuthorizationCode.objects.get()
    assert row.used_at is not None
    winner = winners[0]
    jti = jwt.decode(winner["access_token"], options={"verify_signature": False})["jti"]
    assert row.access_token_jti == jti
    # Only one family was started, and the losers' second uses revoked it with the token.
    family = RefreshTokenFamily.objects.get()
    assert row.refresh_family == family
    assert family.revoked_at is not None
    assert RevokedAccessToken.objects.filter(jti=jti).exists()
