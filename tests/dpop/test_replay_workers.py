"""DPoP jti replay across workers (RFC 9449 §11.1): two processes sharing one Redis cache see
each other's proofs. The second worker is a real subprocess with its own Django."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
import django
from django.test.utils import override_settings

job = json.load(sys.stdin)
django.setup()
with override_settings(CACHES=job["caches"], OAUTH_TOKEN=job["oauth_token"]):
    from oauth_token.token_endpoint import dpop
    from oauth_token.errors import OAuthError
    expected = dpop.ProofRequirements(
        htm="POST", htu=job["htu"], nonce_required=job["nonce_required"]
    )
    try:
        print(json.dumps({"jkt": dpop.validator.validate(job["proof"], expected).jkt}))
    except OAuthError as exc:
        print(json.dumps(exc.as_body()))
"""


@pytest.fixture
def shared_redis(settings):
    redis = pytest.importorskip("redis")
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


def second_worker(caches, oauth_token, proof: str, nonce_required: bool = False) -> dict:
    job = {
        "nonce_required": nonce_required,
        "caches": caches,
        "oauth_token": oauth_token,
        "proof": proof,
        "htu": "https://auth.example.test/oauth/token",
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_proof_used_here_is_refused_by_another_worker(
    shared_redis, settings, cc_request, proof_key
):
    proof = proof_key.proof()
    assert cc_request(proof).status_code == 200
    assert second_worker(shared_redis, settings.OAUTH_TOKEN, proof) == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof's jti has already been used.",
    }


def test_proof_used_by_another_worker_is_refused_here(
    shared_redis, settings, cc_request, proof_key
):
    proof = proof_key.proof()
    assert second_worker(shared_redis, settings.OAUTH_TOKEN, proof) == {"jkt": proof_key.jkt}
    response = cc_request(proof)
    assert response.status_code == 400
    assert response.json()["error_description"] == "The DPoP proof's jti has already been used."


def test_fresh_proofs_pass_on_both_workers(shared_redis, settings, cc_request, proof_key):
    assert second_worker(shared_redis, settings.OAUTH_TOKEN, proof_key.proof()) == {
        "jkt": proof_key.jkt
    }
    assert cc_request(proof_key.proof()).status_code == 200


def test_nonce_issued_by_one_worker_is_accepted_by_another(
    shared_redis, settings, cc_request, proof_key
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
