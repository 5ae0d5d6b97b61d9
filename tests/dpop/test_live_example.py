"""DPoP over real HTTP against the example project (started as the README says), with proofs
built by joserfc: a client obtains a DPoP-bound token and calls GET /api/whoami with it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from tests.example.test_server_e2e import Server, server  # noqa: F401  (module-scoped fixture)

AUDIENCE = "https://api.example.com"


class DPoPClient:
    def __init__(self, server: Server):  # noqa: F811
        self.server = server
        self.key = ECKey.generate_key("P-256")

    def proof(self, method: str, path: str, access_token: str | None = None, **claims: Any) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": self.server.base + path,
            "iat": int(time.time()),
        }
        if access_token:
            digest = hashlib.sha256(access_token.encode()).digest()
            body["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        body.update(claims)
        return jose_jwt.encode(header, body, self.key)

    def token(self) -> dict[str, Any]:
        creds = self.server.credentials
        basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode())
        status, _, body = self.server.request(
            "/oauth/token",
            {"grant_type": "client_credentials", "audience": AUDIENCE},
            {
                "Authorization": f"Basic {basic.decode()}",
                "DPoP": self.proof("POST", "/oauth/token"),
            },
        )
        assert status == 200, body
        return json.loads(body)


def test_discovery_lists_dpop_algorithms(server):  # noqa: F811
    status, _, body = server.request("/.well-known/openid-configuration")
    assert status == 200
    assert "ES256" in json.loads(body)["dpop_signing_alg_values_supported"]


def test_dpop_bound_token_calls_whoami(server):  # noqa: F811
    client = DPoPClient(server)
    issued = client.token()
    assert issued["token_type"] == "DPoP"
    token = issued["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["cnf"] == {"jkt": client.key.thumbprint()}

    proof = client.proof("GET", "/api/whoami", access_token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    status, _, body = server.request("/api/whoami", headers=headers)
    assert status == 200, body
    assert json.loads(body)["client_id"] == server.credentials["client_id"]

    # The same proof again is a replay.
    status, response_headers, body = server.request("/api/whoami", headers=headers)
    assert status == 401
    assert json.loads(body)["error"] == "invalid_dpop_proof"
    assert response_headers["WWW-Authenticate"].startswith(
        'DPoP realm="oauth", error="invalid_dpop_proof"'
    )


def test_stolen_dpop_token_is_useless_without_the_key(server):  # noqa: F811
    token = DPoPClient(server).token()["access_token"]
    status, _, body = server.request("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert json.loads(body)["error"] == "invalid_token"
    thief = DPoPClient(server)
    proof = thief.proof("GET", "/api/whoami", access_token=token)
    status, _, body = server.request(
        "/api/whoami", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
    )
    assert status == 401
    assert json.loads(body)["error_description"] == (
        "The DPoP proof's key is not the one the token is bound to."
    )
