"""Protected-resource metadata (RFC 9728) and the challenges that point at it (§5.1)."""

from __future__ import annotations

import pytest

from oauth_token.registry import provisioning
from tests.dpop_helpers import ProofKey
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


# --- 403 insufficient_scope: the step-up challenge (RFC 6750 §3.1, RFC 9728 §5.1) -------------


def step_up_challenge(metadata: str | None, lacking: str, required: str) -> str:
    pointer = f'resource_metadata="{metadata}", ' if metadata else ""
    return (
        f'Bearer realm="oauth", {pointer}error="insufficient_scope", '
        f'error_description="The access token lacks the scope(s): {lacking}.", '
        f'scope="{required}"'
    )


@pytest.mark.parametrize(
    ("path", "audience", "metadata"),
    [
        ("/mcp", MCP, MCP_METADATA),
        (
            "/api/things",
            THINGS,
            "http://testserver/.well-known/oauth-protected-resource/api/things",
        ),
        (
            "/api/explicit",
            "https://api.example.com",
            "https://rs.example.com/.well-known/oauth-protected-resource",
        ),
        ("/api/unpublished", "https://api.example.com", None),
    ],
)
def test_403_insufficient_scope_names_the_scopes_and_the_metadata(
    api_client, forge, path, audience, metadata
):
    token = forge(aud=audience, scope="profile")
    response = api_client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "The access token lacks the scope(s): read:things.",
    }
    assert response["WWW-Authenticate"] == step_up_challenge(metadata, "read:things", "read:things")


def test_step_up_challenge_names_every_scope_needed_not_only_the_missing_one(api_client, forge):
    """The MCP step-up: the client asks again for what the scope parameter names, so it lists
    all the request needs (a token holding tools:list still needs tools:call with it)."""
    token = forge(aud=MCP, scope="tools:list")
    response = api_client.get("/mcp/tools", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == step_up_challenge(
        MCP_METADATA, "tools:call", "tools:call tools:list"
    )


def test_rbac_permission_challenge_points_at_the_metadata(api_client, forge):
    token = forge(aud=MCP, scope="tools:call", permissions=["tools:call"])
    response = api_client.get("/mcp/admin", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == step_up_challenge(
        MCP_METADATA, "tools:admin", "tools:admin"
    )


def test_enough_scope_passes(api_client, forge):
    token = forge(aud=MCP, scope="tools:call tools:list")
    assert api_client.get("/mcp/tools", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_dpop_step_up_challenge_uses_the_dpop_scheme_and_points_at_the_metadata(api_client, forge):
    key = ProofKey()
    token = forge(aud=MCP, scope="tools:list", cnf={"jkt": key.jkt})
    proof = key.proof("GET", "http://testserver/mcp/tools", access_token=token)
    response = api_client.get("/mcp/tools", HTTP_AUTHORIZATION=f"DPoP {token}", HTTP_DPOP=proof)
    assert response.status_code == 403
    assert response["WWW-Authenticate"].startswith(
        f'DPoP realm="oauth", resource_metadata="{MCP_METADATA}", error="insufficient_scope", '
    )
    assert 'scope="tools:call tools:list", algs="' in response["WWW-Authenticate"]
