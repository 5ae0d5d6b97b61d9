"""Builders for reliability and security tests: client keys, client assertions, and request
helpers that speak plain HTTP semantics. Assertions are signed with PyJWT directly (not with
oauth_token.core.jose), so the server is checked against an independent signer."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from oauth_token.registry import provisioning

ISSUER = "https://auth.example.test/"
TOKEN_ENDPOINT = "https://auth.example.test/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUDIENCE = "https://api.example.com"


@dataclass(frozen=True)
class KeyPair:
    private: Any
    jwk: dict[str, Any]  # public, with kid/alg/use
    alg: str

    @property
    def kid(self) -> str:
        return str(self.jwk["kid"])


_RSA_POOL: list[Any] = []
_rsa_turn = [0]


def _pooled_rsa_key() -> Any:
    """RSA generation costs ~100 ms; tests cycle through four keys, so any four consecutive
    calls (victim, attacker, ...) still get distinct keys."""
    if len(_RSA_POOL) < 4:
        _RSA_POOL.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _RSA_POOL[-1]
    _rsa_turn[0] = (_rsa_turn[0] + 1) % len(_RSA_POOL)
    return _RSA_POOL[_rsa_turn[0]]


_SERVER_POOL: list[Any] = []
_server_turn = [0]


def fast_server_keys(monkeypatch: Any) -> None:
    """Let ``keyring.rotate`` draw RSA keys from a pool of its own (distinct from the clients'
    pool) instead of generating two per test: the battery has hundreds of cases."""
    from oauth_token.core import jose

    real = jose.generate_private_key

    def pooled(alg: str) -> Any:
        if alg not in ("RS256", "PS256"):
            return real(alg)
        if len(_SERVER_POOL) < 4:
            _SERVER_POOL.append(real(alg))
            return _SERVER_POOL[-1]
        _server_turn[0] = (_server_turn[0] + 1) % len(_SERVER_POOL)
        return _SERVER_POOL[_server_turn[0]]

    monkeypatch.setattr(jose, "generate_private_key", pooled)


def rsa_keypair(kid: str | None = None, alg: str = "RS256") -> KeyPair:
    private = _pooled_rsa_key()
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid or uuid.uuid4().hex[:12], "alg": alg, "use": "sig"})
    return KeyPair(private, jwk, alg)


def ec_keypair(kid: str | None = None) -> KeyPair:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update({"kid": kid or uuid.uuid4().hex[:12], "alg": "ES256", "use": "sig"})
    return KeyPair(private, jwk, "ES256")


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


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand: for headers and algorithms no library will produce."""

    def part(obj: Any) -> str:
        import json

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
    import hashlib
    import hmac

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
    from cryptography.hazmat.primitives.asymmetric import ec

    key = key or ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    header = {"typ": "dpop+jwt", "jwk": jwk, **(header_overrides or {})}
    return jwt.encode(body, key, alg, headers=header), key
