"""The password lockout and the jwt-bearer replay cache shared by two gunicorn workers
through one Redis: parallel requests spread over both workers never get more than the limit
through, and one assertion is redeemed exactly once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from oauth_token.registry import provisioning
from tests import kit
from tests.grants.trusted_idp import Idp
from tests.live_workers import parallel, post_to

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PARALLEL = 30


@pytest.fixture
def alice(transactional_db: None) -> Any:
    return get_user_model().objects.create_user("alice", "alice@example.com", "right-password")


def test_parallel_wrong_passwords_on_two_workers_get_exactly_the_limit_through(
    two_workers, signing_keys, api, alice
):
    created = provisioning.create_client(name="Legacy", grant_types=["password"])
    basic = kit.basic(created.client.client_id, created.secret or "")
    form = {
        "grant_type": "password",
        "username": "alice",
        "password": "wrong",
        "audience": api.identifier,
    }
    calls = [
        post_to(two_workers[i % 2], "/oauth/token", form, Authorization=basic)
        for i in range(PARALLEL)
    ]
    results = parallel(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    errors = sorted((status, json.loads(raw)["error"]) for status, _, raw in results)
    limit = 10  # PASSWORD_MAX_FAILURES_PER_USER's default
    assert errors == [(400, "invalid_grant")] * limit + [(429, "too_many_attempts")] * (
        PARALLEL - limit
    )


def test_one_assertion_redeemed_in_parallel_on_two_workers_succeeds_once(
    two_workers, signing_keys, api, alice
):
    idp = Idp()
    created = provisioning.create_client(
        name="Integration", grant_types=[JWT_BEARER], trusted_issuers=[idp.entry()]
    )
    provisioning.grant(created.client, api, ["read:things"])
    basic = kit.basic(created.client.client_id, created.secret or "")
    form = {"grant_type": JWT_BEARER, "assertion": idp.sign(), "audience": api.identifier}
    results = parallel(
        [
            post_to(two_workers[i % 2], "/oauth/token", form, Authorization=basic)
            for i in range(PARALLEL)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [400] * (PARALLEL - 1), statuses
    refused = {json.loads(raw)["error_description"] for status, _, raw in results if status == 400}
    assert refused == {"The assertion has already been used."}
