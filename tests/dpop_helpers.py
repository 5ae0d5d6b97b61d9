"""Building DPoP proofs in tests, with PyJWT and cryptography directly (not oauth_token's code).

``ProofKey`` is a client's key pair; ``proof(...)`` signs a proof with chosen claims and
header, so each rejection rule can be produced on its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from tests.kit import rsa_private_key

TOKEN_URL = "https://auth.example.test/oauth/token"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ath(token: str) -> str:
    return b64(hashlib.sha256(token.encode()).digest())


class ProofKey:
    def __init__(self, alg: str = "ES256", rsa_bits: int = 2048):
        self.alg = alg
        if alg.startswith("ES"):
            curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
            self.private = ec.generate_private_key(curve[alg])
            self.jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            self.jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = (
                rsa_private_key()
                if rsa_bits == 2048
                else rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
            )
            self.jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwk.pop("key_ops", None)

    @property
    def private_jwk(self) -> dict[str, Any]:
        algorithm = {"EC": ECAlgorithm, "OKP": OKPAlgorithm, "RSA": RSAAlgorithm}[self.jwk["kty"]]
        return json.loads(algorithm.to_jwk(self.private))

    @property
    def jkt(self) -> str:
        """RFC 7638, computed here independently of oauth_token.core.jose."""
        members = {
            "RSA": ("e", "kty", "n"),
            "EC": ("crv", "kty", "x", "y"),
            "OKP": ("crv", "kty", "x"),
        }
        canonical = {m: self.jwk[m] for m in members[self.jwk["kty"]]}
        raw = json.dumps(canonical, separators=(",", ":"), sort_keys=True).encode()
        return b64(hashlib.sha256(raw).digest())

    def proof(
        self,
        htm: str = "POST",
        htu: str = TOKEN_URL,
        *,
        drop: tuple[str, ...] = (),
        header: dict[str, Any] | None = None,
        signer: Any = None,
        alg: str | None = None,
        access_token: str | None = None,
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(time.time()),
        }
        if access_token is not None:
            body["ath"] = ath(access_token)
        body.update(claims)
        for name in drop:
            body.pop(name, None)
        headers: dict[str, Any] = {"typ": "dpop+jwt", "jwk": self.jwk}
        headers.update(header or {})
        headers = {k: v for k, v in headers.items() if v is not None}
        return jwt.encode(body, signer or self.private, algorithm=alg or self.alg, headers=headers)


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A JWS with ``alg: none`` (empty signature), which PyJWT will not produce for a key."""
    encode = lambda obj: b64(json.dumps(obj).encode())  # noqa: E731
    return f"{encode(header)}.{encode(claims)}."
