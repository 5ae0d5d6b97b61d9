"""Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9, RFC 7523 §3).

One small class per method, a screen each, in the style of DRF's authentication classes. The
request must carry credentials for exactly one method, and the client may use only the method
it registered. Unknown clients, wrong secrets and wrong methods all produce the same
``invalid_client`` so that errors cannot be used to enumerate clients.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote_plus

from oauth_token import signals
from oauth_token.conf import oauth_settings
from oauth_token.core import cache, endpoints, jose, jwks, replay, secrets
from oauth_token.errors import InvalidClient, InvalidRequest
from oauth_token.models import Client
from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH, AuthMethod
from oauth_token.registry import snapshots
from oauth_token.registry.keyring import encryption_keys
from oauth_token.registry.snapshots import ClientInfo
from oauth_token.signals import send_after_commit
from oauth_token.token_endpoint.request import TokenRequest

logger = logging.getLogger("oauth_token")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GENERIC_FAILURE = "Client authentication failed."


class ClientAuthenticationFailed(InvalidClient):
    """``invalid_client`` that knows why (for the ``client_authentication_failed`` event;
    the reason names the check, never the credential)."""

    def __init__(self, description: str, *, scheme: str | None, reason: str):
        super().__init__(description, scheme=scheme)
        self.reason = reason


@dataclass(frozen=True)
class AuthenticatedClient:
    client: ClientInfo
    method: str


class ClientAuthMethod:
    name: ClassVar[str]
    # The token_endpoint_auth_method values (RFC 7591 §2) this class implements.
    handles: ClassVar[tuple[str, ...]]
    # RFC 6749 §5.2: the WWW-Authenticate scheme of a failure, the one the client used in
    # its Authorization header; None for methods that authenticate in the body.
    challenge: ClassVar[str | None] = None

    def presented(self, req: TokenRequest) -> bool:
        raise NotImplementedError

    def authenticate(self, req: TokenRequest) -> ClientInfo:
        raise NotImplementedError

    def fail(self, reason: str, description: str = GENERIC_FAILURE) -> InvalidClient:
        logger.info("client authentication failed (%s): %s", self.name, reason)
        return ClientAuthenticationFailed(description, scheme=self.challenge, reason=reason)

    def registered_client(self, client_id: str | None, *methods: str) -> ClientInfo:
        client = snapshots.get_client(client_id) if client_id else None
        if client is None:
            raise self.fail("unknown client")
        if client.auth_method not in (methods or (self.name,)):
            raise self.fail(f"client registered for {client.auth_method}")
        return client


class ClientSecretBasic(ClientAuthMethod):
    """RFC 6749 §2.3.1: id and secret form-urlencoded, then base64, in the Basic header."""

    name = "client_secret_basic"
    handles = (AuthMethod.CLIENT_SECRET_BASIC.value,)
    challenge = "Basic"

    def presented(self, req: TokenRequest) -> bool:
        return (req.authorization or "")[:6].lower() == "basic "

    def authenticate(self, req: TokenRequest) -> ClientInfo:
        client_id, secret = self._credentials(req.authorization or "")
        body_id = req.get("client_id")
        if body_id is not None and body_id != client_id:
            raise InvalidRequest("client_id in the body does not match the Authorization header.")
        client = self.registered_client(client_id)
        if not secrets.matches(secret, client.secret_digest):
            raise self.fail("wrong secret")
        return client

    def _credentials(self, header: str) -> tuple[str, str]:
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            raw_id, raw_secret = decoded.split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise self.fail("malformed Basic header") from exc
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if not client_id or not secret:
            raise self.fail("empty Basic credentials")
        return client_id, secret


class ClientSecretPost(ClientAuthMethod):
    """RFC 6749 §2.3.1: ``client_id`` and ``client_secret`` in the body."""

    name = "client_secret_post"
    handles = (AuthMethod.CLIENT_SECRET_POST.value,)

    def presented(self, req: TokenRequest) -> bool:
        return req.get("client_secret") is not None

    def authenticate(self, req: TokenRequest) -> ClientInfo:
        client = self.registered_client(req.get("client_id"))
        if not secrets.matches(req.require("client_secret"), client.secret_digest):
            raise self.fail("wrong secret")
        return client


class ClientAssertion(ClientAuthMethod):
    """RFC 7523 §3 / OIDC Core §9: ``client_secret_jwt`` (HMAC with the client secret) and
    ``private_key_jwt`` (the client's registered public keys).

    Checks run cheapest first, so that a forged or unsigned assertion costs no key work and
    never makes the server fetch a ``jwks_uri``: well-formed, allowed ``alg``, known client
    registered for assertions, ``alg`` fits its method, claims (issuer, subject, a single
    audience naming this server, lifetime, ``jti``); only then the key (possibly fetched),
    the signature, and last the ``jti`` replay cache, so a refused assertion is not spent."""

    name = "client_assertion"
    handles = (AuthMethod.CLIENT_SECRET_JWT.value, AuthMethod.PRIVATE_KEY_JWT.value)

    def presented(self, req: TokenRequest) -> bool:
        return (
            req.get("client_assertion") is not None or req.get("client_assertion_type") is not None
        )

    def authenticate(self, req: TokenRequest) -> ClientInfo:
        if req.get("client_assertion_type") != ASSERTION_TYPE:
            raise InvalidRequest(f"client_assertion_type must be {ASSERTION_TYPE}.")
        assertion = req.require("client_assertion")
        try:
            header, unverified = jose.peek(assertion)
        except jose.JoseError as exc:
            raise self.fail("unparseable assertion", "The client assertion is malformed.") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in oauth_settings.CLIENT_ASSERTION_ALGORITHMS:
            raise self.fail("alg not allowed", "The client assertion algorithm is not allowed.")
        client_id = unverified.get("iss") if isinstance(unverified.get("iss"), str) else None
        if req.get("client_id") is not None and req.get("client_id") != client_id:
            raise InvalidRequest("client_id does not match the client assertion's issuer.")
        client = self.registered_client(client_id, "client_secret_jwt", "private_key_jwt")
        self._check_alg_fits(alg, client)
        exp = self._check_claims(unverified, client)
        claims = self._verify(assertion, self._key(alg, header, client), alg, client)
        if not replay.first_use(
            "client_assertion",
            f"{client.client_id}\x00{claims['jti']}",
            exp - int(time.time()) + int(oauth_settings.CLOCK_SKEW),
        ):
            raise self.fail("jti replayed", "The client assertion has already been used.")
        return client

    def _check_alg_fits(self, alg: str, client: ClientInfo) -> None:
        """HMAC only with the shared secret, asymmetric only with registered public keys
        (no algorithm confusion), before any key is looked up."""
        wanted = (
            jose.HMAC_ALGORITHMS
            if client.auth_method == "client_secret_jwt"
            else jose.ASYMMETRIC_ALGORITHMS
        )
        if alg not in wanted:
            raise self.fail(
                f"alg {alg} does not fit {client.auth_method}",
                "The client assertion algorithm is not allowed.",
            )

    def _check_claims(self, claims: dict[str, Any], client: ClientInfo) -> int:
        """RFC 7523 §3 items 1-7 on the (not yet verified) claims; returns ``exp``. The
        signature check that follows makes them the client's."""
        for name in ("iss", "sub", "aud", "exp", "jti"):
            if name not in claims:
                raise self.fail(f"no {name}", f"The client assertion lacks the {name!r} claim.")
        if claims.get("sub") != client.client_id:
            raise self.fail("sub mismatch", "The client assertion's sub must be the client_id.")
        if not names_only_this_server(claims["aud"]):
            raise self.fail(
                "aud names someone else",
                "The client assertion's aud must name this server (its issuer or token "
                "endpoint) and nothing else.",
            )
        now = int(time.time())
        skew = int(oauth_settings.CLOCK_SKEW)
        exp = jose.numeric_date(claims["exp"])
        if exp is None or exp <= now - skew:
            raise self.fail("expired", "The client assertion has expired.")
        if exp - now > int(oauth_settings.CLIENT_ASSERTION_MAX_LIFETIME) + skew:
            raise self.fail(
                "lifetime too long", "The client assertion expires too far in the future."
            )
        for name in ("iat", "nbf"):
            if name in claims:
                value = jose.numeric_date(claims[name])
                if value is None or value > now + skew:
                    raise self.fail(
                        f"{name} in the future", "The client assertion is not yet valid."
                    )
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise self.fail("bad jti", "The client assertion's jti is invalid.")
        return exp

    def _key(self, alg: str, header: dict[str, Any], client: ClientInfo) -> Any:
        if client.auth_method == "client_secret_jwt":
            try:
                secret = jose.unseal(
                    client.secret_sealed, encryption_keys(), aad=client.client_id.encode()
                )
            except jose.JoseError as exc:
                raise self.fail("client secret cannot be unsealed") from exc
            if len(secret) * 8 < int(alg[2:]):
                # RFC 7518 §3.2: the key MUST be at least as long as the hash output.
                raise self.fail(
                    "secret too short for alg", "The client assertion algorithm is not allowed."
                )
            return secret
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        try:
            if client.jwks:
                return _registered_key(client, alg, kid)
            return jwks.verification_key(client.jwks, client.jwks_uri, alg, kid)
        except jose.JoseError as exc:
            raise self.fail("no usable registered key", str(exc)) from exc

    def _verify(self, assertion: str, key: Any, alg: str, client: ClientInfo) -> dict[str, Any]:
        try:
            return jose.verify(
                assertion,
                key,
                [alg],
                audience=sorted(endpoints.issuer_aliases()),
                issuer=client.client_id,
                leeway=int(oauth_settings.CLOCK_SKEW),
                require=("exp", "iss", "sub", "aud", "jti"),
                peeked=True,
            )
        except jose.JoseError as exc:
            raise self.fail(
                "assertion rejected", f"The client assertion is invalid: {exc}"
            ) from exc


def _registered_key(client: ClientInfo, alg: str, kid: str | None) -> Any:
    """The key of the client's registered (inline) JWK Set for ``alg`` and ``kid``, chosen and
    loaded once per snapshot of the client rather than on every assertion (choosing and
    canonicalising the JWK cost more than the signature check's own Python). The memo entry
    holds the very ``jwks`` object it was computed from and is used only while the client's
    current snapshot holds that same object, so a changed key set is never answered from it;
    a refusal (JoseError) is not remembered."""
    registered = client.jwks
    entry = cache.memoized(
        ("assertion_key", client.client_id, alg, kid),
        lambda: (registered, jwks.verification_key(registered, "", alg, kid)),
    )
    if entry[0] is not registered:
        return jwks.verification_key(registered, "", alg, kid)
    return entry[1]


def names_only_this_server(aud: Any) -> bool:
    """``aud`` is this server's issuer or token endpoint, as a string or a one-element array
    (RFC 7523 §3 item 3). An array naming anyone else too is refused: an assertion a client
    made for another party must not be accepted here (OpenID Foundation 2025 advisory on
    audience injection in private_key_jwt)."""
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    return isinstance(aud, str) and aud in endpoints.issuer_aliases()


class NoneAuth(ClientAuthMethod):
    """Public clients (RFC 6749 §2.1) only identify themselves; grants then demand PKCE or
    sender-constrained tokens."""

    name = "none"
    handles = (AuthMethod.NONE.value,)

    def presented(self, req: TokenRequest) -> bool:
        return False

    def authenticate(self, req: TokenRequest) -> ClientInfo:
        client_id = req.get("client_id")
        if client_id is None:
            raise InvalidClient("Client authentication is required.", scheme="Basic")
        client = snapshots.get_client(client_id)
        if client is None or client.auth_method != "none":
            raise self.fail("no credentials for a non-public client")
        return client


METHODS: tuple[ClientAuthMethod, ...] = (ClientSecretBasic(), ClientSecretPost(), ClientAssertion())
_NONE = NoneAuth()


def method_names() -> tuple[str, ...]:
    """Every authentication method implemented here, in discovery's order (one list, derived
    from the classes, for discovery and for the check that models and classes agree)."""
    return tuple(name for method in (*METHODS, _NONE) for name in method.handles)


def authenticate_client(req: TokenRequest) -> AuthenticatedClient:
    """Exactly one set of credentials, or none for a public client (RFC 6749 §2.3)."""
    presented = [m for m in METHODS if m.presented(req)]
    if len(presented) > 1:
        raise InvalidRequest("Use exactly one client authentication method.")
    method = presented[0] if presented else _NONE
    try:
        client = method.authenticate(req)
        if not client.is_active:
            raise method.fail("inactive client")
    except ClientAuthenticationFailed as exc:
        send_after_commit(
            signals.client_authentication_failed,
            Client,
            client_id=presented_client_id(req),
            method=method.name,
            reason=exc.reason,
            request=req.http,
        )
        raise
    return AuthenticatedClient(client, client.auth_method)


def presented_client_id(req: TokenRequest) -> str | None:
    """The client_id a failed request claimed (body, Basic header or assertion ``iss``),
    unverified, for the event only; a value no client could have is dropped."""
    candidate: Any = req.get("client_id")
    header = req.authorization or ""
    if candidate is None and header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            candidate = unquote_plus(decoded.split(":", 1)[0])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            candidate = None
    assertion = req.get("client_assertion")
    if candidate is None and assertion:
        try:
            candidate = jose.unverified_claims(assertion).get("iss")
        except jose.JoseError:
            candidate = None
    if not isinstance(candidate, str) or not candidate.isprintable():
        return None
    if len(candidate) > CLIENT_ID_MAX_LENGTH:
        return None
    return candidate
