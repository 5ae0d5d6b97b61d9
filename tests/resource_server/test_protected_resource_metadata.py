"""Protected-resource metadata (RFC 9728) and the challenges that point at it (§5.1)."""

from __future__ import annotations

import pytest

from oauth_token.registry import provisioning
from tests.resource_server.metadata_urls import MCP, THINGS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.resource_server.metadata_urls")]

ISSUER = "https://auth.example.test/"
MCP_METADATA = "http://testserver/.well-known/oauth-protected-resource/mcp"


@pytest.fixture
def mcp_api(db):
    return provisioning.create_api(identifier=MCP, name="MCP tools", scopes=["tools:call"])


def test_metadata_names_exactly_the_resource_it_was_derived_from(api_client, mcp_api):
    response = api_client.get("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 200
    assert response.json() == {
        "resource": MCP,
        "authorization_servers": [ISSUER],
        "scopes_supported": ["tools:call"],
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": [
            "ES256",
            "ES384",
            "ES512",
            "RS256",
            "PS256",
            "EdDSA",
            "Ed25519",
        ],
        "resource_name": "MCP tools",
    }
    assert response["Access-Control-Allow-Origin"] == "*"


def test_metadata_derives_the_resource_from_the_request_when_not_configured(api_client):
    body = api_client.get("/.well-known/oauth-protected-resource/api/things").json()
    assert body["resource"] == THINGS
    assert body["scopes_supported"] == ["read:things"]


def test_metadata_mounted_at_a_url_not_derived_from_its_resource_is_not_served(api_client):
    """§3.3: a client would reject it; publishing it would only mislead."""
    response = api_client.get("/.well-known/oauth-protected-resource/wrong")
    assert response.status_code == 404
    assert response.json()["error"] == "invalid_request"


def test_metadata_refuses_other_methods_with_json(api_client):
    response = api_client.post("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_401_without_a_token_points_at_the_published_metadata(api_client):
    response = api_client.get("/mcp")
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert f'Bearer realm="oauth", resource_metadata="{MCP_METADATA}"' in challenge
    assert f'DPoP realm="oauth", resource_metadata="{MCP_METADATA}"' in challenge


def test_401_for_a_bad_token_points_at_the_published_metadata(api_client):
    response = api_client.get("/api/things", HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge
    expected = "http://testserver/.well-known/oauth-protected-resource/api/things"
    assert f'resource_metadata="{expected}"' in challenge


def test_401_of_a_resource_without_published_metadata_names_none(api_client):
    response = api_client.get("/api/unpublished")
    assert response.status_code == 401
    assert "resource_metadata" not in response["WWW-Authenticate"]
