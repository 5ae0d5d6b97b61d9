"""RFC 9449 §5: a bound family is refreshed only with a proof by the same key.

Proof validation belongs to token_endpoint/dpop.py; by the time the grant runs,
``context.dpop_jkt`` is the thumbprint of a validated proof (or None). These tests drive the
grant with such contexts.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from oauth_token.errors import InvalidGrant
from oauth_token.grants.refresh_token import RefreshTokenGrant
from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.token_endpoint.issuance import issue
from tests.refresh.fixtures import token_context

pytestmark = pytest.mark.django_db

KEY_A = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
KEY_B = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.fixture
def bound(offline_api, public_rt_client, start_family):
    issued = start_family(public_rt_client, dpop_jkt=KEY_A)
    assert RefreshTokenFamily.objects.get().dpop_jkt == KEY_A
    return public_rt_client, issued.refresh_token


def refresh_with(client, value, jkt):
    context = token_context(
        client, grant_type="refresh_token", params={"refresh_token": value}, dpop_jkt=jkt
    )
    with transaction.atomic():
        result = RefreshTokenGrant().validate(context)
        return result, issue(result, context)


@pytest.mark.parametrize("jkt", [None, KEY_B], ids=["no-proof", "other-key"])
def test_bound_family_needs_a_proof_by_the_same_key(bound, jkt):
    client, value = bound
    with pytest.raises(InvalidGrant, match="bound to a DPoP key"):
        refresh_with(client, value, jkt)
    assert RefreshToken.objects.get().used_at is None
    assert RefreshTokenFamily.objects.get().revoked_at is None


def test_bound_family_refreshes_with_the_same_key_and_stays_bound(bound):
    client, value = bound
    result, issued = refresh_with(client, value, KEY_A)
    assert result.continued_family is not None
    assert result.continued_family.family == RefreshTokenFamily.objects.get()
    assert issued.token_type == "DPoP"
    assert issued.access_token.claims["cnf"] == {"jkt": KEY_A}
    successor = issued.refresh_token
    assert successor and successor != value

    with pytest.raises(InvalidGrant, match="bound to a DPoP key"):
        refresh_with(client, successor, None)
    _, again = refresh_with(client, successor, KEY_A)
    assert again.refresh_token


def test_unbound_family_accepts_requests_with_or_without_proof(
    offline_api, public_rt_client, start_family
):
    value = start_family(public_rt_client).refresh_token
    _, issued = refresh_with(public_rt_client, value, KEY_B)
    assert issued.token_type == "DPoP"
    _, issued = refresh_with(public_rt_client, issued.refresh_token, None)
    assert issued.token_type == "Bearer"
    assert RefreshTokenFamily.objects.get().dpop_jkt is None
