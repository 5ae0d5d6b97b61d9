"""Of many simultaneous redemptions of one approved device code, exactly one gets tokens."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from oauth_token.models import DeviceCodeStatus
from tests.conftest import basic
from tests.race import race, requires_postgres

from .conftest import DEVICE_GRANT, approve, row_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 24


@requires_postgres()
def test_parallel_redemptions_of_one_device_code_yield_one_token_response(
    signing_keys, tv_client, device_code_request, person
):
    client, secret = tv_client
    device_code = device_code_request(
        {"scope": "openid read:things", "audience": "https://api.example.com"},
        auth=(client.client_id, secret),
    ).json()["device_code"]
    approve(device_code, person)
    body = f"grant_type={DEVICE_GRANT}&device_code={device_code}"

    def redeem():
        response = HttpClient().generic(
            "POST",
            "/oauth/token",
            body,
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=basic(client.client_id, secret),
        )
        return response.status_code, response.json()

    results = race(redeem, PARALLEL)
    assert not [r for r in results if isinstance(r, Exception)], results
    winners = [b for status, b in results if status == 200]
    losers = [b for status, b in results if status != 200]
    assert len(winners) == 1
    assert "access_token" in winners[0]
    assert len(losers) == PARALLEL - 1
    assert {b["error"] for b in losers} == {"invalid_grant"}
    assert row_for(device_code).status == DeviceCodeStatus.CONSUMED
