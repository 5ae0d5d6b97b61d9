"""Replay caches shared by several workers through one Redis (RFC 7523 §3 item 7, RFC 9449
§11.1): an assertion accepted by one worker is refused by every other, also when both see it
at the same instant."""

from __future__ import annotations

import json

import pytest

from tests import kit
from tests.live_workers import parallel, post_to
from tests.services import post_form

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

PARALLEL = 20


@pytest.fixture
def key_client(signing_keys, api):
    return kit.pkjwt_client(api)


def test_assertion_used_on_one_worker_is_refused_on_the_other(two_workers, key_client):
    first, second = two_workers
    client, key = key_client
    form = kit.assertion_form(kit.private_key_assertion(client.client_id, key))
    status, _, raw = post_form(f"{first.url}/oauth/token", form)
    assert status == 200, raw
    status, _headers, raw = post_form(f"{second.url}/oauth/token", form)
    assert status == 401
    assert json.loads(raw)["error"] == "invalid_client"
    assert "already been used" in json.loads(raw)["error_description"]


def test_simultaneous_replays_across_two_workers_succeed_exactly_once(two_workers, key_client):
    first, second = two_workers
    client, key = key_client
    form = kit.assertion_form(kit.private_key_assertion(client.client_id, key))
    calls = [post_to((first, second)[i % 2], "/oauth/token", form) for i in range(PARALLEL)]
    results = parallel(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [401] * (PARALLEL - 1), statuses
    refused = [json.loads(raw) for status, _, raw in results if status == 401]
    assert {body["error"] for body in refused} == {"invalid_client"}


def test_client_secret_jwt_replay_across_workers_succeeds_exactly_once(
    two_workers, api, signing_keys
):
    first, second = two_workers
    client, secret = kit.secret_jwt_client(api)
    form = kit.assertion_form(kit.secret_assertion(client.client_id, secret))
    results = parallel(
        [post_to((first, second)[i % 2], "/oauth/token", form) for i in range(PARALLEL)]
    )
    assert sorted(status for status, _, _ in results) == [200] + [401] * (PARALLEL - 1)


def test_distinct_assertions_on_both_workers_all_succeed(two_workers, key_client):
    """The control: sharing the replay cache causes no false positives under load."""
    first, second = two_workers
    client, key = key_client
    calls = [
        post_to(
            (first, second)[i % 2],
            "/oauth/token",
            kit.assertion_form(kit.private_key_assertion(client.client_id, key)),
        )
        for i in range(PARALLEL)
    ]
    results = parallel(calls)
    assert [status for status, _, _ in results] == [200] * PARALLEL
    jtis = {json.loads(raw)["access_token"] for _, _, raw in results}
    assert len(jtis) == PARALLEL
