"""The client's side of RFC 7523 client authentication, for tests: key pairs, JWK Sets and
signed client assertions, built with PyJWT and cryptography as a real client would."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ISSUER = "https://auth.example.test/"
TOKEN_ENDPOINT = "https://auth.example.test/oauth/token"
DROP = object()  # pass as a claim's value to leave the claim out


def generate_key(alg: str) -> Any:
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(alg)


def public_jwk(private_key: Any, kid: str | None, alg: str | None = None) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    if kid:
        jwk["kid"] = kid
    if alg:
        jwk["alg"] = alg
    return jwk


def sign_assertion(
    client_id: str,
    key: Any,
    alg: str,
    *,
    kid: str | None = None,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A client assertion with sensible defaults (iss = sub = client_id, aud = issuer,
    one minute of life, fresh jti); keyword claims override them, ``DROP`` removes one."""
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    for name, value in claims.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    header: dict[str, Any] = {"kid": kid} if kid else {}
    header.update(headers or {})
    return jwt.encode(body, key, algorithm=alg, headers=header)


def assertion_params(assertion: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **extra}


def unsigned_assertion(client_id: str) -> str:
    """``alg: none`` (RFC 7519 §6): an unsecured JWT, which must never authenticate anyone."""
    now = int(time.time())
    return jwt.encode(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": ISSUER,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        },
        None,
        algorithm="none",
    )


@dataclass
class JwksServer:
    """A client's ``jwks_uri``: serves ``jwks`` as JSON on 127.0.0.1 and counts fetches."""

    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    hits: int = 0
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> JwksServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}/jwks.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def jose_int(value: int) -> str:
    """An integer as a JWK member (RFC 7518 §2 Base64urlUInt)."""
    import base64

    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
