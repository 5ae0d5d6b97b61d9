"""The client's side of the protocol, for tests: key pairs and JWK Sets, client assertions
(RFC 7523), DPoP proofs, clients provisioned through the real functions, a JWK Set served over
HTTP, and the shared ``assert_*`` checks. Assertions and proofs are signed with PyJWT and
cryptography directly (not with oauth_token.core.jose), so the server is checked against an
independent signer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from oauth_token.core import jose
from oauth_token.registry import provisioning

ISSUER = "https://auth.example.test/"
TOKEN_ENDPOINT = "https://auth.example.test/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUDIENCE = "https://api.example.com"
DROP = object()  # pass as a claim's value to sign_assertion to leave the claim out


@dataclass(frozen=True)
class KeyPair:
    private: Any
    jwk: dict[str, Any]  # public, with kid/alg/use
    alg: str

    @property
    def kid(self) -> str:
        return str(self.jwk["kid"])


class KeyPool:
    """RSA 2048 keys generated once per test process and handed out in order.

    Generating one costs ~100 ms (about 40 % of the unit tests' time before the pool); the
    protocol never cares whether a key is new, only that keys which should differ do. The
    root conftest calls ``rewind()`` before every test, so within a test every ``take()``
    returns a distinct key (the pool grows when a test needs more), and a key never means
    anything beyond the test that took it (each test's database and caches are fresh).
    """

    def __init__(self) -> None:
        self._keys: list[Any] = []
        self._next = 0

    def take(self) -> Any:
        if self._next == len(self._keys):
            self._keys.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        key = self._keys[self._next]
        self._next += 1
        return key

    def rewind(self) -> None:
        self._next = 0


# Two pools, so a client's key is never the server's signing key by accident.
CLIENT_KEYS = KeyPool()
SERVER_KEYS = KeyPool()


def rsa_private_key() -> Any:
    """A client-side RSA 2048 private key, distinct from every other one in this test."""
    return CLIENT_KEYS.take()


def pooled_server_keys(monkeypatch: Any) -> None:
    """Let ``keyring.rotate`` (and so ``manage.py oauth_keys rotate``) draw its RSA keys from
    ``SERVER_KEYS``: everything else about rotation (states, kid thumbprints, sealing, row
    locks) stays the server's own code. Tests marked ``fresh_keys`` skip this."""
    real = jose.generate_private_key

    def generate(alg: str) -> Any:
        return SERVER_KEYS.take() if alg in ("RS256", "PS256") else real(alg)

    monkeypatch.setattr(jose, "generate_private_key", generate)


def rsa_keypair(kid: str | None = None, alg: str = "RS256") -> KeyPair:
    private = rsa_private_key()
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid or uuid.uuid4().hex[:12], "alg": alg, "use": "sig"})
    return KeyPair(private, jwk, alg)


def ec_keypair(kid: str | None = None) -> KeyPair:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid or uuid.uuid4().hex[:12], "alg": "ES256", "use": "sig"})
    return KeyPair(private, jwk, "ES256")


def generate_key(alg: str) -> Any:
    if alg.startswith(("RS", "PS")):
        return rsa_private_key()
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


def jose_int(value: int) -> str:
    """An integer as a JWK member (RFC 7518 §2 Base64urlUInt)."""
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assertion_claims(client_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_ENDPOINT,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def private_key_assertion(
    client_id: str, key: KeyPair, *, headers: dict[str, Any] | None = None, **claims: Any
) -> str:
    header = {"kid": key.kid, **(headers or {})}
    return jwt.encode(assertion_claims(client_id, **claims), key.private, key.alg, headers=header)


def secret_assertion(client_id: str, secret: str, alg: str = "HS256", **claims: Any) -> str:
    return jwt.encode(assertion_claims(client_id, **claims), secret, alg)


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
    body = assertion_claims(client_id, aud=ISSUER)
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


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand: for headers and algorithms no library will produce."""

    def part(obj: Any) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    sig = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return f"{part(header)}.{part(claims)}.{sig}"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def assertion_form(assertion: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "audience": AUDIENCE,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }


def pkjwt_client(api: Any, key: KeyPair | None = None, **kwargs: Any) -> tuple[Any, KeyPair]:
    """A private_key_jwt client_credentials client with a grant on ``api``."""
    key = key or rsa_keypair()
    created = provisioning.create_client(
        name=kwargs.pop("name", "Key client"),
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks={"keys": [key.jwk]},
        **kwargs,
    )
    provisioning.grant(created.client, api, ["read:things"])
    return created.client, key


def secret_jwt_client(api: Any) -> tuple[Any, str]:
    created = provisioning.create_client(
        name="HMAC client", grant_types=["client_credentials"], auth_method="client_secret_jwt"
    )
    provisioning.grant(created.client, api, ["read:things"])
    assert created.secret is not None
    return created.client, created.secret


def secret_client(api: Any, auth_method: str = "client_secret_basic") -> tuple[Any, str]:
    created = provisioning.create_client(
        name="Secret client", grant_types=["client_credentials"], auth_method=auth_method
    )
    provisioning.grant(created.client, api, ["read:things", "write:things"])
    assert created.secret is not None
    return created.client, created.secret


def assert_oauth_error(response: Any, status: int, error: str) -> dict[str, Any]:
    """Status, RFC 6749 §5.2 JSON shape and the error code; returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description", ""), str)
    assert set(body) <= {"error", "error_description", "error_uri"}, body
    assert response["Cache-Control"] == "no-store"
    return body


def db_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every oauth_token model and of the user model: compared before and after a
    refused request to prove it changed nothing."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    models = [*apps.get_app_config("oauth_token").get_models(), get_user_model()]
    return {m._meta.label: list(m.objects.order_by("pk").values_list()) for m in models}


def hmac_signed_jwt(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HS256 computed by hand with any bytes as the key (PyJWT refuses PEM/JWK-looking keys,
    which is exactly what an attacker would use)."""
    signing_input = unsigned_jwt(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return unsigned_jwt(header, claims, signature)


def dpop_proof(
    key: Any | None = None,
    *,
    htm: str = "POST",
    htu: str = TOKEN_ENDPOINT,
    alg: str = "ES256",
    header_overrides: dict[str, Any] | None = None,
    **claims: Any,
) -> tuple[str, Any]:
    """A DPoP proof (RFC 9449 §4.2) built with PyJWT; returns (proof, private key)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    header = {"typ": "dpop+jwt", "jwk": jwk, **(header_overrides or {})}
    return jwt.encode(body, key, alg, headers=header), key
