"""The only module that signs, verifies, encrypts or hashes key material.

Everything goes through PyJWT and ``cryptography``; no JOSE is written by hand here beyond
RFC 7638's canonical JSON for thumbprints and base64url without padding.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.utils import base64url_decode, base64url_encode

SIGNING_KEY_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
# RFC 9864 §2.2: "Ed25519" is the fully-specified name of EdDSA over Ed25519 and deprecates
# the polymorphic "EdDSA"; both are accepted wherever either is, for the same keys.
ED25519_ALGORITHMS = ("EdDSA", "Ed25519")
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        *ED25519_ALGORITHMS,
    }
)
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})

_EC_CURVE_ALGS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# RFC 7638 §3.2: the required members, per key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
_SEAL_VERSION = "v1"
# RFC 7519 §2 NumericDate claims, and the latest instant accepted in one (9999-12-31T23:59:59Z):
# beyond it datetime, cache expiries and database columns overflow.
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf", "auth_time")
MAX_NUMERIC_DATE = 253402300799
_MAX_DEPTH = 16


class JoseError(Exception):
    """A token or key could not be parsed or verified; the message is safe to show a client."""


class MalformedToken(JoseError):
    """The token's JSON is not what RFC 7519 allows: for example a number that is not finite
    (``NaN``, ``Infinity``, ``1e400``) or a NumericDate out of range."""


_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@lru_cache(maxsize=64)
def _decoded_segment(segment: bytes, name: str) -> bytes:
    """PyJWT's own decoding of one base64url segment, remembered for the few most recent
    segments: it is a pure function of its arguments (a failure raises and is not kept)."""
    decoded = _decode_valid_segment(segment)
    if decoded is None:
        decoded = jwt.PyJWS._decode_base64url_segment(segment, name)
    return decoded


def _decode_valid_segment(segment: bytes) -> bytes | None:
    """PyJWT 2.15's ``_decode_base64url_segment`` for a segment that passes every one of its
    checks (at most two trailing ``=`` and then a length that is a multiple of 4, no length
    of 1 mod 4, only base64url characters, canonical trailing bits), with the alphabet
    checked by ``bytes.translate`` instead of a Python generator over each character (~350
    steps for a client assertion's segments). None for anything else: PyJWT itself then
    decides, and raises its own error."""
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if padding > 2 or (padding and len(segment) % 4) or len(stripped) % 4 == 1:
        return None
    if stripped.translate(None, _BASE64URL):
        return None
    try:
        decoded = base64url_decode(stripped)
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        return None
    return decoded if base64url_encode(decoded) == stripped else None


class _SegmentMemoJWS(jwt.PyJWS):
    """PyJWS whose base64url decoding of a segment is done once for a token read twice in a
    row: a peek (``peek``, ``unverified_header``) before the key is chosen, then the verifying
    decode. PyJWT checks every character of every segment in a Python generator (~2,000 steps
    for a client assertion), which made that second parse cost as much as the first. Every
    other step of the second decode (header checks, ``crit``, algorithm, signature, claims)
    runs again as PyJWT wrote it; only the decoded bytes, which cannot differ, are reused.
    Should PyJWT stop calling this method, tokens are merely parsed twice again."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        return _decoded_segment(segment, name)


def _decoder() -> jwt.PyJWT:
    """PyJWT knowing RFC 9864's "Ed25519" as well as "EdDSA" (same verifier; keys are
    restricted to the Ed25519 curve by ``algorithms_for_jwk``). A private instance: PyJWT's
    global algorithm registry is left untouched."""
    decoder = jwt.PyJWT()
    # The same JWS layer PyJWT builds, with the segment memo above.
    decoder._jws = _SegmentMemoJWS(options=decoder._jws.options)
    # PyJWT exposes no public way to extend one instance's algorithms but its JWS object.
    decoder._jws.register_algorithm("Ed25519", OKPAlgorithm())
    return decoder


_JWT = _decoder()


def _assert_finite(value: Any, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise MalformedToken("The token nests too deeply.")
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedToken("The token contains a number that is not finite.")
    if isinstance(value, dict):
        for item in value.values():
            _assert_finite(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _assert_finite(item, depth + 1)


def assert_sane_numbers(claims: Mapping[str, Any]) -> None:
    """Every number in ``claims`` is finite, and every NumericDate present is a number in
    [0, MAX_NUMERIC_DATE] (RFC 7519 §2, §4.1.4-§4.1.6). Applied to every header and payload
    this module parses, so no caller meets ``inf`` or ``NaN`` (RFC 8259 §6 has neither)."""
    _assert_finite(claims)
    for name in NUMERIC_DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and numeric_date(value) is None and _is_number(value):
            raise MalformedToken(f"The token's {name!r} claim is out of range.")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_date(value: Any) -> int | None:
    """A NumericDate as whole seconds, or None when ``value`` is not a finite number within
    [0, MAX_NUMERIC_DATE] (booleans are not numbers here)."""
    if not _is_number(value):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not 0 <= value <= MAX_NUMERIC_DATE:
        return None
    return int(value)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def sha256_b64url(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return b64url(hashlib.sha256(raw).digest())


def generate_private_key(alg: str) -> Any:
    """A fresh private key for one of SIGNING_KEY_ALGORITHMS (RSA 2048 is RFC 7518's minimum)."""
    if alg in ("RS256", "PS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"Unsupported signing algorithm {alg!r}")


def private_key_to_pem(key: Any) -> bytes:
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def public_jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    """The public JWK (RFC 7517) of a private key: only public members, plus kid/alg/use."""
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    else:  # pragma: no cover - generate_private_key makes only the types above
        raise ValueError("Unsupported key type")
    jwk = {k: v for k, v in jwk.items() if k not in _PRIVATE_JWK_MEMBERS}
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url: the `jkt` of DPoP (RFC 9449 §6.1)."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise JoseError("The JWK is not a supported public key.")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return sha256_b64url(canonical)


def has_private_members(jwk: Mapping[str, Any]) -> bool:
    return any(m in jwk for m in _PRIVATE_JWK_MEMBERS)


def algorithms_for_jwk(jwk: Mapping[str, Any]) -> frozenset[str]:
    """Which asymmetric algorithms a public JWK can verify, so a key never meets a foreign alg."""
    kty = jwk.get("kty")
    if kty == "RSA":
        algs: Iterable[str] = _RSA_ALGS
    elif kty == "EC":
        alg = _EC_CURVE_ALGS.get(str(jwk.get("crv")))
        algs = (alg,) if alg else ()
    elif kty == "OKP" and jwk.get("crv") == "Ed25519":
        algs = ED25519_ALGORITHMS
    else:
        algs = ()
    declared = jwk.get("alg")
    if declared in ED25519_ALGORITHMS:
        declared = None if set(algs) == set(ED25519_ALGORITHMS) else declared
    return frozenset(a for a in algs if declared in (None, a))


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Any:
    """A verification key object from a public JWK; refuses private or symmetric keys.

    Loading a key (decoding and validating its numbers, building the OpenSSL object) costs
    more than verifying a signature with it, and the same few keys sign most requests (a
    client's registered key, a DPoP key across a session), so loaded keys are kept in a small
    bounded LRU keyed by the JWK's canonical JSON: the key object is a pure function of it."""
    if not isinstance(jwk, Mapping) or has_private_members(jwk):
        raise JoseError("The JWK must be a public key.")
    try:
        canonical = json.dumps(dict(jwk), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise JoseError("The JWK is malformed.") from exc
    return _load_public_jwk(canonical)


@lru_cache(maxsize=1024)
def _load_public_jwk(canonical: str) -> Any:
    jwk = json.loads(canonical)
    algs = algorithms_for_jwk(jwk)
    if not algs:
        raise JoseError("The JWK is not a supported public key.")
    try:
        pyjwt_alg = "EdDSA" if algs <= set(ED25519_ALGORITHMS) else sorted(algs)[0]
        return jwt.PyJWK(dict(jwk), algorithm=pyjwt_alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise JoseError("The JWK is malformed.") from exc


# --- encryption at rest -------------------------------------------------------------------


def _derive(kek: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"oauth_token", info=b"key-encryption"
    ).derive(kek.encode())


def derive_key(kek: str, purpose: bytes) -> bytes:
    """A 256-bit key for one ``purpose`` (HKDF-SHA256, RFC 5869), independent of the key that
    seals private keys, so that using it for an HMAC never exposes the sealing key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"oauth_token", info=b"purpose:" + purpose
    ).derive(kek.encode())


def _kek_id(key: bytes) -> str:
    return hashlib.sha256(b"kek-id" + key).hexdigest()[:8]


def seal(plaintext: bytes, kek: str, aad: bytes = b"") -> str:
    """AES-256-GCM under a key derived from the operator's KEK; the output names that KEK."""
    key = _derive(kek)
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad)
    return f"{_SEAL_VERSION}:{_kek_id(key)}:{b64url(nonce + ciphertext)}"


def unseal(sealed: str, keks: Sequence[str], aad: bytes = b"") -> bytes:
    """Decrypt with whichever of ``keks`` sealed it; raises JoseError without revealing data."""
    try:
        version, kek_id, payload = sealed.split(":", 2)
        raw = b64url_decode(payload)
    except (ValueError, TypeError) as exc:
        raise JoseError("Sealed value is malformed.") from exc
    if version != _SEAL_VERSION:
        raise JoseError("Sealed value has an unknown version.")
    for kek in keks:
        key = _derive(kek)
        if _kek_id(key) != kek_id:
            continue
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad)
        except Exception as exc:
            raise JoseError("Sealed value failed authentication.") from exc
    raise JoseError("No configured key-encryption key can decrypt this value.")


# --- JWTs ---------------------------------------------------------------------------------


def sign(
    claims: Mapping[str, Any],
    key: Any,
    alg: str,
    *,
    kid: str | None = None,
    typ: str | None = "JWT",
    headers: Mapping[str, Any] | None = None,
) -> str:
    header: dict[str, Any] = dict(headers or {})
    if kid:
        header["kid"] = kid
    if typ:
        header["typ"] = typ
    return jwt.encode(dict(claims), key, algorithm=alg, headers=header)


def unverified_header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise JoseError("The token is not a compact JWS.")
    try:
        header = _JWT._jws.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise JoseError("The token header is malformed.") from exc
    if not isinstance(header, dict):
        raise JoseError("The token header is malformed.")
    _assert_finite(header)
    return header


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, unverified, in one parse: what ``unverified_header``
    and ``unverified_claims`` give, for callers that need both before choosing a key (PyJWT
    validates every base64url character of every segment, so each parse costs)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise JoseError("The token is not a compact JWS.")
    try:
        complete = _JWT.decode_complete(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise JoseError("The token is malformed.") from exc
    header, claims = complete.get("header"), complete.get("payload")
    if not isinstance(header, dict):
        raise JoseError("The token header is malformed.")
    if not isinstance(claims, dict):
        raise JoseError("The token payload is malformed.")
    _assert_finite(header)
    assert_sane_numbers(claims)
    return header, claims


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = _JWT.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise JoseError("The token payload is malformed.") from exc
    if not isinstance(claims, dict):
        raise JoseError("The token payload is malformed.")
    assert_sane_numbers(claims)
    return claims


def verify(
    token: str,
    key: Any,
    algorithms: Iterable[str],
    *,
    audience: str | Sequence[str] | None = None,
    issuer: str | None = None,
    leeway: int = 0,
    require: Sequence[str] = ("exp",),
    verify_exp: bool = True,
    peeked: bool = False,
) -> dict[str, Any]:
    """Verify signature and registered claims; any failure becomes a JoseError with a reason.
    Numbers are checked (``assert_sane_numbers``) before PyJWT compares any of them, unless
    the caller already did so through :func:`peek` (``peeked``) on this very token."""
    if not peeked:
        try:
            unverified_claims(token)  # runs assert_sane_numbers
        except MalformedToken:
            raise
        except JoseError:
            pass  # PyJWT below names what is wrong with it
    options: Any = {"require": list(require), "verify_exp": verify_exp}
    if audience is None:
        options["verify_aud"] = False
    try:
        claims = _JWT.decode(
            token,
            key,
            algorithms=list(algorithms),
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options=options,
        )
    except jwt.ExpiredSignatureError as exc:
        raise JoseError("The token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise JoseError("The token is not yet valid.") from exc
    except jwt.InvalidAudienceError as exc:
        raise JoseError("The token audience is not accepted.") from exc
    except jwt.InvalidIssuerError as exc:
        raise JoseError("The token issuer is not accepted.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise JoseError(f"The token lacks the {exc.claim!r} claim.") from exc
    except jwt.InvalidSignatureError as exc:
        raise JoseError("The token signature is invalid.") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise JoseError("The token algorithm is not allowed.") from exc
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise JoseError("The token is malformed or invalid.") from exc
    if not isinstance(claims, dict):
        raise JoseError("The token payload is malformed.")
    return claims


def verify_signature(token: str, key: Any, alg: str) -> dict[str, Any]:
    """Only the signature (and that the payload is a JSON object): for proofs such as DPoP
    (RFC 9449 §4.3) whose time and identity claims the caller checks with its own rules and
    its own error descriptions."""
    options: Any = {
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": False,
        "verify_iss": False,
        "verify_sub": False,
        "verify_jti": False,
        "require": [],
    }
    try:
        claims = _JWT.decode(token, key, algorithms=[alg], options=options)
    except jwt.InvalidSignatureError as exc:
        raise JoseError("The signature is invalid.") from exc
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise JoseError("The token is malformed.") from exc
    if not isinstance(claims, dict):
        raise JoseError("The token payload is malformed.")
    assert_sane_numbers(claims)
    return claims


def rsa_key_bits(jwk: Mapping[str, Any]) -> int:
    """Modulus size of an RSA JWK, so callers can refuse keys below RFC 7518 §3.3's 2048 bits."""
    try:
        return len(b64url_decode(str(jwk.get("n", "")))) * 8
    except (ValueError, TypeError):
        return 0


def token_hash(token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6 at_hash: left half of the hash matching the signing alg."""
    digest = {"384": hashlib.sha384, "512": hashlib.sha512}.get(alg[-3:], hashlib.sha256)
    if alg in ED25519_ALGORITHMS:
        digest = hashlib.sha512
    raw = digest(token.encode("ascii")).digest()
    return b64url(raw[: len(raw) // 2])
