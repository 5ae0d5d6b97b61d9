"""DPoP proof replay across two real gunicorn workers sharing one Redis (RFC 9449 §11.1): a
proof accepted by one worker is refused by the other, also when both see it at once."""

from __future__ import annotations

import json

import pytest

from tests import kit
from tests.dpop_helpers import ProofKey
from tests.live_workers import parallel, post_to

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

PARALLEL = 20
FORM = {"grant_type": "client_credentials", "audience": kit.AUDIENCE}


@pytest.fixture
def credentials(signing_keys, m2m_client):
    client, secret = m2m_client
    return {"Authorization": kit.basic(client.client_id, secret)}


def test_proof_used_on_one_worker_is_refused_on_the_other(two_workers, credentials):
    first, second = two_workers
    proof = ProofKey().proof()
    status, _, raw = post_to(first, "/oauth/token", FORM, **credentials, DPoP=proof)()
    assert status == 200, raw
    assert json.loads(raw)["token_type"] == "DPoP"
    status, _, raw = post_to(second, "/oauth/token", FORM, **credentials, DPoP=proof)()
    assert status == 400, raw
    assert json.loads(raw) == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof's jti has already been used.",
    }


def test_simultaneous_replays_of_one_proof_succeed_exactly_once(two_workers, credentials):
    first, second = two_workers
    proof = ProofKey().proof()
    calls = [
        post_to((first, second)[i % 2], "/oauth/token", FORM, **credentials, DPoP=proof)
        for i in range(PARALLEL)
    ]
    results = parallel(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(status for status, _, _ in results) == [200] + [400] * (PARALLEL - 1)
    refused = {json.loads(raw)["error"] for status, _, raw in results if status == 400}
    assert refused == {"invalid_dpop_proof"}
