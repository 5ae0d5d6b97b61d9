from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.dpop_helpers import ProofKey

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
