"""Shared pieces for property-based tests: which client-facing endpoints exist in this build,
and what an RFC 6749 §5.2 error must look like."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from tests import kit

# §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E only.
RFC6749_CHARS = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")
KNOWN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "invalid_dpop_proof",
    "use_dpop_nonce",
    "invalid_target",
    "too_many_attempts",
    "temporarily_unavailable",
    "unsupported_response_type",
    "unsupported_token_type",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "invalid_client_metadata",
    "invalid_redirect_uri",
    "invalid_token",
}

# Route name → path, for every POST endpoint a client calls with a form body.
CANDIDATE_ENDPOINTS = {
    "token": "/oauth/token",
    "revoke": "/oauth/revoke",
    "introspect": "/oauth/introspect",
    "par": "/oauth/par",
    "device_code": "/oauth/device/code",
}


def mounted_endpoints() -> list[str]:
    """The candidates this build serves (features land one by one; each is fuzzed as soon as
    its route exists)."""
    paths = []
    for name, path in CANDIDATE_ENDPOINTS.items():
        try:
            if reverse(f"oauth_token:{name}") == path:
                paths.append(path)
        except NoReverseMatch:
            continue
    return paths


def assert_rfc6749_error(status: int, content_type: str, body: bytes) -> dict[str, Any]:
    assert content_type.startswith("application/json"), (status, content_type, body[:200])
    import json

    data = json.loads(body)
    assert isinstance(data, dict), data
    assert isinstance(data.get("error"), str) and data["error"], data
    assert data["error"] in KNOWN_ERRORS, data
    description = data.get("error_description", "")
    assert isinstance(description, str)
    assert RFC6749_CHARS.fullmatch(description), f"§5.2 forbids these characters: {description!r}"
    assert set(data) <= {"error", "error_description", "error_uri"}, data
    return data


@pytest.fixture
def fuzz_target(signing_keys, api, make_client):
    """A client that may use every grant and introspect, so generated requests that happen to
    authenticate reach the grants' own validation."""
    from oauth_token.registry import provisioning

    created = provisioning.create_client(
        name="Fuzz target",
        grant_types=[
            "client_credentials",
            "authorization_code",
            "refresh_token",
            "password",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        redirect_uris=["https://app.example.com/callback"],
        can_introspect=True,
    )
    provisioning.grant(created.client, api, ["read:things"])
    return created.client.client_id, created.secret


__all__ = ["assert_rfc6749_error", "kit", "mounted_endpoints"]
