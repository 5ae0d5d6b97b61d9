"""DPoP jti replay across workers (RFC 9449 §11.1): two processes sharing one Redis cache see
each other's proofs. The second worker is a real subprocess with its own Django."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
import django
from django.test.utils import override_settings

django.setup()
from oauth_token.errors import OAuthError
from oauth_token.token_endpoint import dpop

for line in sys.stdin:
    job = json.loads(line)
    with override_settings(CACHES=job["caches"], OAUTH_TOKEN=job["oauth_token"]):
        expected = dpop.ProofRequirements(
            htm="POST", htu=job["htu"], nonce_required=job["nonce_required"]
        )
        try:
            answer = {"jkt": dpop.validator.validate(job["proof"], expected).jkt}
        except OAuthError as exc:
            answer = exc.as_body()
    print(json.dumps(answer), flush=True)
"""


@pytest.fixture
def shared_redis(settings):
    redis = pytest.importorskip(
        "redis", reason="redis-py is a test dependency (pip install -e .[test])"
    )
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable")
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"dpop-test-{uuid.uuid4().hex}",
        }
    }
    settings.CACHES = caches
    return caches


@pytest.fixture(scope="module")
def worker_process() -> Iterator[subprocess.Popen[str]]:
    """The second worker: its own Python process and Django, started once for this module; it
    validates one proof per line of JSON on its stdin and answers one line on its stdout."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    yield process
    assert process.stdin is not None
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def second_worker(worker_process) -> Callable[..., dict[str, Any]]:
    """``second_worker(caches, oauth_token, proof, nonce_required=False)``: the other worker's
    verdict on ``proof`` under those settings (a ``jkt`` or an RFC 6749 error body)."""

    def ask(caches, oauth_token, proof: str, nonce_required: bool = False) -> dict[str, Any]:
        job = {
            "nonce_required": nonce_required,
            "caches": caches,
            "oauth_token": oauth_token,
            "proof": proof,
            "htu": "https://auth.example.test/oauth/token",
        }
        assert worker_process.stdin is not None and worker_process.stdout is not None
        worker_process.stdin.write(json.dumps(job) + "\n")
        worker_process.stdin.flush()
        ready, _, _ = select.select([worker_process.stdout], [], [], 60)
        assert ready, "the second worker did not answer within 60 s"
        line = worker_process.stdout.readline()
        assert line, f"the second worker exited (code {worker_process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    return ask


def test_proof_used_here_is_refused_by_another_worker(
    shared_redis, second_worker, settings, cc_request, proof_key
):
    proof = proof_key.proof()
    assert cc_request(proof).status_code == 200
    assert second_worker(shared_redis, settings.OAUTH_TOKEN, proof) == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof's jti has already been used.",
    }


def test_proof_used_by_another_worker_is_refused_here(
    shared_redis, second_worker, settings, cc_request, proof_key
):
    proof = proof_key.proof()
    assert second_worker(shared_redis, settings.OAUTH_TOKEN, proof) == {"jkt": proof_key.jkt}
    response = cc_request(proof)
    assert response.status_code == 400
    assert response.json()["error_description"] == "The DPoP proof's jti has already been used."


def test_fresh_proofs_pass_on_both_workers(
    shared_redis, second_worker, settings, cc_request, proof_key
):
    assert second_worker(shared_redis, settings.OAUTH_TOKEN, proof_key.proof()) == {
        "jkt": proof_key.jkt
    }
    assert cc_request(proof_key.proof()).status_code == 200


def test_nonce_issued_by_one_worker_is_accepted_by_another(
    shared_redis, second_worker, settings, cc_request, proof_key
):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "DPOP_NONCE_POLICY": "always"}
    first = cc_request(proof_key.proof())
    assert first.status_code == 400
    nonce = first["DPoP-Nonce"]
    result = second_worker(
        shared_redis, settings.OAUTH_TOKEN, proof_key.proof(nonce=nonce), nonce_required=True
    )
    assert result == {"jkt": proof_key.jkt}
    forged = nonce[:-4] + ("AAAA" if not nonce.endswith("AAAA") else "BBBB")
    result = second_worker(
        shared_redis, settings.OAUTH_TOKEN, proof_key.proof(nonce=forged), nonce_required=True
    )
    assert result == {
        "error": "use_dpop_nonce",
        "error_description": "The DPoP nonce is invalid or expired.",
    }
