"""A demo MCP server behind this authorization server, built with the official ``mcp`` SDK.

What a team writes to put its own MCP server behind django-oauth-token (README, "MCP"):

1. register the server as an API whose identifier is the server's URL (the RFC 8707
   resource, e.g. ``http://127.0.0.1:8001/mcp``), with the scopes its tools need;
2. give the SDK a ``TokenVerifier`` that checks this server's access tokens locally against
   the published JWKS, with ``aud`` = that URL (RFC 9068 §4), so tokens minted for any other
   API are refused;
3. give the SDK ``AuthSettings`` naming the issuer and the resource URL: the SDK then
   publishes the RFC 9728 metadata at ``/.well-known/oauth-protected-resource/mcp`` and
   answers unauthenticated requests with ``WWW-Authenticate: Bearer resource_metadata=...``,
   from which MCP clients discover the authorization server, register (RFC 7591) and sign
   the person in.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread
import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

logger = logging.getLogger("demo.mcp")

TOOLS_SCOPE = "mcp:tools"
# Asymmetric algorithms only: an HMAC "signature" made with a public key must never verify.
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


def resource_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/mcp"


class JwksTokenVerifier:
    """Verifies RFC 9068 access tokens of ``issuer`` with its JWKS (fetched once, cached,
    refetched for an unknown ``kid``), requiring ``aud`` = this MCP server's resource URL."""

    def __init__(self, issuer: str, audience: str, jwks_uri: str | None = None):
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKClient(jwks_uri or f"{issuer.rstrip('/')}/.well-known/jwks.json")

    async def verify_token(self, token: str) -> AccessToken | None:
        return await anyio.to_thread.run_sync(self.verify, token)

    def verify(self, token: str) -> AccessToken | None:
        try:
            if jwt.get_unverified_header(token).get("typ") != "at+jwt":
                return None
            key = self.keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "client_id"]},
            )
        except jwt.PyJWTError as exc:
            logger.info("refused an access token: %s", type(exc).__name__)
            return None
        if claims.get("cnf"):
            return None  # DPoP-bound (RFC 9449 §7): never usable as a Bearer token
        return AccessToken(
            token=token,
            client_id=str(claims["client_id"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=str(claims["sub"]),
            claims=claims,
        )


def build(port: int, issuer: str) -> MCPServer:
    """The demo server: one tool, ``whoami``, for tokens with the ``mcp:tools`` scope."""
    resource = resource_url(port)
    server: MCPServer = MCPServer(
        "django-oauth-token demo",
        token_verifier=JwksTokenVerifier(issuer, resource),
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=resource,
            required_scopes=[TOOLS_SCOPE],
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def whoami() -> dict[str, Any]:
        """Who the access token presented to this MCP server speaks for."""
        token = get_access_token()
        if token is None:  # the SDK's bearer middleware lets no such request through
            return {}
        return {"sub": token.subject, "client_id": token.client_id, "scope": token.scopes}

    return server
