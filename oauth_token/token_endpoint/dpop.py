"""DPoP: proof validation, thumbprints and server nonces (RFC 9449).

``ProofValidator`` states RFC 9449 §4.3's checks in order, each failing with its own
description. The token endpoint (``for_token_request``) and resource servers
(``verify_resource_request``) call it with what the proof must match. Thumbprints are RFC 7638
SHA-256 (``jose.jwk_thumbprint``), the ``jkt`` of ``cnf`` (§6.1).

Nonces (§8) are stateless, so every worker can verify one another's: a nonce is a time-window
counter and an HMAC of it under a key derived from the key-encryption key (or SECRET_KEY). A
nonce is accepted during its window and the next one; a response carries a fresh one when the
client's is from the previous window.
"""

from __future__ import annotations

import hmac
import posixpath
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, jose, replay
from oauth_token.errors import InvalidDPoPProof, InvalidRequest, InvalidToken, UseDPoPNonce
from oauth_token.registry.snapshots import ClientInfo

PROOF_TYPE = "dpop+jwt"
MAX_PROOF_LENGTH = 8192
MAX_JTI_LENGTH = 256
MIN_RSA_BITS = 2048
NONCE_POLICIES = ("off", "public", "always")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class ProofRequirements:
    """What a proof must match: the request's method and URL, the access token it travels
    with (resource servers, §4.3 step 12), and whether a server nonce is required (§8)."""

    htm: str
    htu: str
    access_token: str | None = None
    nonce_required: bool = False


@dataclass(frozen=True)
class Proof:
    """A verified proof: the key's thumbprint binds tokens to it (§6)."""

    jkt: str
    jti: str
    iat: int
    nonce: str | None
    claims: dict[str, Any]

    @property
    def nonce_is_stale(self) -> bool:
        """The nonce is valid but from the previous window: send a fresh one (§8.2)."""
        return self.nonce is not None and nonce_window(self.nonce) != current_window()


def equal(a: str, b: str) -> bool:
    """Constant-time string comparison that also takes what a client sent: non-ASCII text
    (which ``hmac.compare_digest`` refuses for ``str``) simply does not match."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def proves_binding(bound_jkt: str | None, proof_jkt: str | None) -> bool:
    """Whether a request satisfies an artefact's key binding: an unbound code, refresh token
    or access token accepts any request; a bound one only a validated proof by the same key
    (RFC 9449 §5 refresh tokens, §6 access tokens, §10 ``dpop_jkt`` codes)."""
    if not bound_jkt:
        return True
    return bool(proof_jkt) and equal(bound_jkt, str(proof_jkt))


# --- htu normalisation (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2-§6.2.3) ----------------------


def _decode_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    if char.isascii() and (char.isalnum() or char in "-._~"):
        return char
    return "%" + match.group(1).upper()


def normalize_htu(url: str) -> str | None:
    """Syntax- and scheme-based normalisation without query and fragment: lower-case scheme
    and host, default port dropped, empty path as ``/``, percent-encoding case-normalised and
    unreserved characters decoded, dot segments removed. None when ``url`` is not absolute."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _UNRESERVED.sub(_decode_unreserved, parts.path) or "/"
    if "." in path:
        trailing = path.endswith(("/", "/.", "/.."))
        path = posixpath.normpath(path)
        path = "/" + path.lstrip("/")
        if trailing and not path.endswith("/"):
            path += "/"
    return f"{scheme}://{netloc}{path}"


def htu_matches(claimed: Any, expected: str) -> bool:
    if not isinstance(claimed, str):
        return False
    normalized = normalize_htu(claimed)
    return normalized is not None and equal(normalized, normalize_htu(expected) or "")


# --- nonces (RFC 9449 §8) -------------------------------------------------------------------


def _nonce_secrets() -> list[str]:
    """The KEK when configured, else SECRET_KEY; fallbacks keep nonces valid across rotation."""
    kek = oauth_settings.KEY_ENCRYPTION_KEY
    if kek:
        return [str(kek), *[str(k) for k in oauth_settings.OLD_KEY_ENCRYPTION_KEYS]]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def current_window(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // int(oauth_settings.DPOP_NONCE_LIFETIME))


def _nonce_mac(window: int, secret: str) -> str:
    mac = salted_hmac("oauth_token.dpop.nonce", str(window), secret=secret, algorithm="sha256")
    return jose.b64url(mac.digest()[:18])


def issue_nonce(now: float | None = None) -> str:
    window = current_window(now)
    return f"{window:x}.{_nonce_mac(window, _nonce_secrets()[0])}"


def nonce_window(nonce: str) -> int | None:
    """The window a genuine nonce was issued in, or None for a forged or malformed one."""
    counter, _, mac = nonce.partition(".")
    if not counter or len(counter) > 16 or not mac:
        return None
    try:
        window = int(counter, 16)
    except ValueError:
        return None
    ok = False
    for secret in _nonce_secrets():
        ok |= equal(mac, _nonce_mac(window, secret))
    return window if ok else None


def nonce_is_valid(nonce: str, now: float | None = None) -> bool:
    """Issued in the current window or the one before (so a nonce lives at least one
    ``DPOP_NONCE_LIFETIME``)."""
    window = nonce_window(nonce)
    return window is not None and 0 <= current_window(now) - window <= 1


def nonce_required(client: ClientInfo) -> bool:
    policy = oauth_settings.DPOP_NONCE_POLICY
    return policy == "always" or (policy == "public" and client.is_public)


# --- the validator (RFC 9449 §4.3) ----------------------------------------------------------


def read_proof_header(request: HttpRequest) -> str | None:
    """The single ``DPoP`` header, or None when absent. WSGI servers join repeated headers
    with commas, which a compact JWS never contains (§4.3 step 1)."""
    raw = request.META.get("HTTP_DPOP")
    if raw is None:
        return None
    if "," in raw:
        raise InvalidDPoPProof("Only one DPoP header is allowed.")
    return raw.strip()


class ProofValidator:
    """RFC 9449 §4.3, steps in order. Every failure is ``invalid_dpop_proof`` except a missing
    or stale nonce (``use_dpop_nonce``, §8); replay is checked last so that a refused proof
    does not use up its ``jti``."""

    def validate(self, proof: str, expected: ProofRequirements) -> Proof:
        header = self.header(proof)
        jwk = self.key(header)
        claims = self.signature(proof, header, jwk)
        jti, iat = self.required_claims(claims)
        self.method_and_url(claims, expected)
        self.freshness(iat)
        self.access_token_hash(claims, expected)
        nonce = self.nonce(claims, expected)
        jkt = jose.jwk_thumbprint(jwk)
        self.not_replayed(jkt, jti)
        return Proof(jkt=jkt, jti=jti, iat=iat, nonce=nonce, claims=claims)

    def header(self, proof: str) -> dict[str, Any]:
        """Steps 2-5: one well-formed compact JWS, ``typ: dpop+jwt``, an allowed asymmetric
        ``alg``."""
        if not proof or len(proof) > MAX_PROOF_LENGTH:
            raise InvalidDPoPProof("The DPoP proof is empty or too large.")
        try:
            header = jose.unverified_header(proof)
        except jose.JoseError as exc:
            raise InvalidDPoPProof("The DPoP proof is not a well-formed compact JWS.") from exc
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != PROOF_TYPE:
            raise InvalidDPoPProof("The DPoP proof's typ must be dpop+jwt.")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise InvalidDPoPProof("The DPoP proof must be signed (alg none is refused).")
        if alg in jose.HMAC_ALGORITHMS:
            raise InvalidDPoPProof("The DPoP proof must use an asymmetric algorithm, not HMAC.")
        if alg not in oauth_settings.DPOP_SIGNING_ALGORITHMS:
            raise InvalidDPoPProof("The DPoP proof's alg is not supported.")
        return header

    def key(self, header: Mapping[str, Any]) -> dict[str, Any]:
        """Step 6: a public ``jwk`` of a type that can verify ``alg``, no private members."""
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise InvalidDPoPProof("The DPoP proof has no jwk header.")
        if jose.has_private_members(jwk):
            raise InvalidDPoPProof("The DPoP proof's jwk must not contain private key material.")
        if header["alg"] not in jose.algorithms_for_jwk(jwk):
            raise InvalidDPoPProof("The DPoP proof's jwk does not match its alg.")
        if jwk.get("kty") == "RSA" and jose.rsa_key_bits(jwk) < MIN_RSA_BITS:
            raise InvalidDPoPProof("The DPoP proof's RSA key is shorter than 2048 bits.")
        return jwk

    def signature(self, proof: str, header: Mapping[str, Any], jwk: dict[str, Any]) -> dict:
        """Step 7: the signature verifies with the embedded key."""
        try:
            key = jose.public_key_from_jwk(jwk)
            claims = jose.verify_signature(proof, key, str(header["alg"]))
        except jose.MalformedToken as exc:
            raise InvalidDPoPProof(f"The DPoP proof is malformed: {exc}") from exc
        except jose.JoseError as exc:
            raise InvalidDPoPProof("The DPoP proof's signature is invalid.") from exc
        return claims

    def required_claims(self, claims: Mapping[str, Any]) -> tuple[str, int]:
        """Step 3: ``jti``, ``htm``, ``htu`` and ``iat`` are present and well-typed."""
        for name in ("jti", "htm", "htu", "iat"):
            if name not in claims:
                raise InvalidDPoPProof(f"The DPoP proof lacks the {name} claim.")
        jti, iat = claims["jti"], claims["iat"]
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise InvalidDPoPProof("The DPoP proof's jti must be a non-empty string.")
        seconds = jose.numeric_date(iat)
        if seconds is None:
            raise InvalidDPoPProof("The DPoP proof's iat must be a number.")
        return jti, seconds

    def method_and_url(self, claims: Mapping[str, Any], expected: ProofRequirements) -> None:
        """Steps 8-9: ``htm`` equals the method; ``htu`` the target URI, normalised."""
        if claims["htm"] != expected.htm:
            raise InvalidDPoPProof("The DPoP proof's htm does not match the request method.")
        if not htu_matches(claims["htu"], expected.htu):
            raise InvalidDPoPProof("The DPoP proof's htu does not match the request URL.")

    def freshness(self, iat: int) -> None:
        """Step 11: ``iat`` within ``DPOP_IAT_WINDOW`` seconds of now, either side."""
        if abs(time.time() - iat) > int(oauth_settings.DPOP_IAT_WINDOW):
            raise InvalidDPoPProof("The DPoP proof's iat is outside the acceptable window.")

    def access_token_hash(self, claims: Mapping[str, Any], expected: ProofRequirements) -> None:
        """Step 12: with an access token, ``ath`` is the base64url SHA-256 of it."""
        if expected.access_token is None:
            return
        ath = claims.get("ath")
        if not isinstance(ath, str):
            raise InvalidDPoPProof("The DPoP proof lacks the ath claim.")
        if not equal(ath, jose.sha256_b64url(expected.access_token)):
            raise InvalidDPoPProof("The DPoP proof's ath does not match the access token.")

    def nonce(self, claims: Mapping[str, Any], expected: ProofRequirements) -> str | None:
        """Step 10 / §8: when required, a nonce this server issued and that has not expired;
        otherwise ``use_dpop_nonce`` with a fresh one."""
        if not expected.nonce_required:
            return None
        nonce = claims.get("nonce")
        if nonce is None:
            raise self.use_nonce(None)
        if not isinstance(nonce, str) or not nonce_is_valid(nonce):
            raise self.use_nonce("The DPoP nonce is invalid or expired.")
        return nonce

    def use_nonce(self, description: str | None) -> UseDPoPNonce:
        error = UseDPoPNonce(issue_nonce(), description)
        error.extra_headers.update(nonce_headers(error.headers["DPoP-Nonce"]))
        return error

    def not_replayed(self, jkt: str, jti: str) -> None:
        """Step 11: a ``jti`` is used once per key within the window in which its ``iat`` is
        acceptable, across every worker (shared cache; unreachable → 503, fail closed)."""
        ttl = 2 * int(oauth_settings.DPOP_IAT_WINDOW) + 1
        if not replay.first_use("dpop", f"{jkt}:{jti}", ttl):
            raise InvalidDPoPProof("The DPoP proof's jti has already been used.")


validator = ProofValidator()


# --- the token endpoint (RFC 9449 §5) ---------------------------------------------------------


@dataclass(frozen=True)
class TokenEndpointProof:
    jkt: str
    response_headers: dict[str, str]


def for_token_request(request: HttpRequest, client: ClientInfo) -> TokenEndpointProof | None:
    """The stage between client authentication and the grant: None without a proof (refused
    for clients registered with ``require_dpop``), else the key thumbprint to bind tokens
    to, and a fresh ``DPoP-Nonce`` to send when the client's nonce is from the last window."""
    proof = read_proof_header(request)
    if proof is None:
        if client.require_dpop:
            raise InvalidRequest("This client must send a DPoP proof.")
        return None
    required = nonce_required(client)
    expected = ProofRequirements(
        htm="POST", htu=endpoints.token_endpoint(), nonce_required=required
    )
    verified = validator.validate(proof, expected)
    headers = nonce_headers(issue_nonce()) if required and verified.nonce_is_stale else {}
    return TokenEndpointProof(jkt=verified.jkt, response_headers=headers)


def for_pushed_request(
    request: HttpRequest, client: ClientInfo, dpop_jkt: str | None
) -> str | None:
    """RFC 9449 §10.1: a proof sent with a pushed authorization request binds the code to
    its key, as ``dpop_jkt`` would; when both are sent they must name the same key."""
    proof = read_proof_header(request)
    if proof is None:
        return dpop_jkt
    expected = ProofRequirements(
        htm="POST", htu=endpoints.url("par"), nonce_required=nonce_required(client)
    )
    verified = validator.validate(proof, expected)
    if dpop_jkt is not None and not equal(dpop_jkt, verified.jkt):
        raise InvalidDPoPProof("dpop_jkt does not match the DPoP proof's key.")
    return verified.jkt


def nonce_headers(nonce: str) -> dict[str, str]:
    """Browser clients read ``DPoP-Nonce`` only when CORS exposes it."""
    return {"DPoP-Nonce": nonce, "Access-Control-Expose-Headers": "DPoP-Nonce"}


# --- resource servers (RFC 9449 §7) -----------------------------------------------------------


def verify_resource_request(request: Any, claims: Any) -> Proof:
    """``Authorization: DPoP <token>`` plus a proof whose ``htm``/``htu`` are this request's
    (the URL as Django builds it, honouring ``USE_X_FORWARDED_HOST`` and
    ``SECURE_PROXY_SSL_HEADER``), whose ``ath`` hashes the token and whose key is the one
    the token is bound to (``cnf.jkt``, §6.1)."""
    if claims.jkt is None:
        raise InvalidToken("The token is not DPoP-bound; use the Bearer scheme.")
    http = getattr(request, "_request", request)
    proof = read_proof_header(http)
    if proof is None:
        raise InvalidDPoPProof("A DPoP proof is required with the DPoP scheme.")
    expected = ProofRequirements(
        htm=http.method or "",
        htu=http.build_absolute_uri(http.path),
        access_token=claims.token,
    )
    verified = validator.validate(proof, expected)
    if not equal(verified.jkt, claims.jkt):
        raise InvalidDPoPProof("The DPoP proof's key is not the one the token is bound to.")
    return verified
