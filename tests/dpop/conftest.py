from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.dpop_helpers import ProofKey
from tests.live_workers import _share_the_workers_cache, two_workers, worker_pair

__all__ = ["_share_the_workers_cache", "two_workers", "worker_pair"]

API = "https://api.example.com"


@pytest.fixture
def proof_key() -> ProofKey:
    return ProofKey("ES256")


@pytest.fixture
def cc_request(signing_keys, m2m_client, token_request) -> Callable[..., Any]:
    """A client_credentials request from the m2m client carrying ``dpop`` as its DPoP header."""
    client, secret = m2m_client

    def post(dpop: str | None = None, **headers: Any) -> Any:
        if dpop is not None:
            headers["HTTP_DPOP"] = dpop
        return token_request(
            {"grant_type": "client_credentials", "audience": API},
            auth=(client.client_id, secret),
            **headers,
        )

    return post


@pytest.fixture
def dpop_token(signing_keys, m2m_client, token_request, proof_key) -> str:
    """A DPoP-bound client_credentials token, bound to ``proof_key``."""
    client, secret = m2m_client
    response = token_request(
        {"grant_type": "client_credentials", "audience": API},
        auth=(client.client_id, secret),
        HTTP_DPOP=proof_key.proof(),
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP"
    return str(response.json()["access_token"])
