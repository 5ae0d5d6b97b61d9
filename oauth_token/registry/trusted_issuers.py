"""JWTs signed by issuers a client trusts: jwt-bearer assertions (RFC 7523 §2.1, §3) and
token-exchange subject or actor tokens of type ``jwt`` (RFC 8693 §2.1, §3).

A client lists the issuers it trusts in ``Client.trusted_issuers``, a JSON list of objects::

    [{"issuer": "https://idp.example.com/",
      "jwks_uri": "https://idp.example.com/.well-known/jwks.json",   # or "jwks": {...}
      "audiences": ["https://auth.example.com/"],    # optional; default: this server
      "algorithms": ["RS256"],                       # optional; default: every asymmetric alg
      "subject_mapping": "username"}]                # optional; see resolve_user

Trust is per client: an issuer trusted by one client cannot mint grants for another. Only
asymmetric algorithms are accepted, since this server holds no secret shared with an issuer,
and a token must name this server (or a configured audience) in ``aud`` so that a JWT minted
for some other relying party cannot be replayed here (RFC 7523 §3 item 3).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, jose, jwks, replay
from oauth_token.models.policies import TrustedIssuer, parse_trusted_issuers
from oauth_token.registry.snapshots import ClientInfo

logger = logging.getLogger("oauth_token")


def for_client(client: ClientInfo, issuer: str) -> TrustedIssuer | None:
    try:
        entries = parse_trusted_issuers(client.extra.get("trusted_issuers"))
    except ValueError:
        logger.warning("client %s has malformed trusted_issuers", client.client_id)
        return None
    return next((e for e in entries if e.issuer == issuer), None)


def verify(
    token: str, client: ClientInfo, *, require: tuple[str, ...] = ("exp", "iss", "sub", "aud")
) -> tuple[TrustedIssuer, dict[str, Any]]:
    """Verify a JWT from one of ``client``'s trusted issuers: signature with that issuer's
    keys, ``iss``, ``aud`` (this server unless the entry names audiences), ``exp``/``nbf``.
    Raises JoseError with a message safe to show the client."""
    header = jose.unverified_header(token)
    iss = jose.unverified_claims(token).get("iss")
    if not isinstance(iss, str) or not iss:
        raise jose.JoseError("The token has no issuer.")
    trusted = for_client(client, iss)
    if trusted is None:
        raise jose.JoseError("The token's issuer is not trusted for this client.")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in trusted.algorithms:
        raise jose.JoseError("The token algorithm is not allowed.")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    key = jwks.verification_key(trusted.jwks, trusted.jwks_uri, alg, kid)
    claims = jose.verify(
        token,
        key,
        [alg],
        audience=list(trusted.audiences) or sorted(endpoints.issuer_aliases()),
        issuer=trusted.issuer,
        leeway=int(oauth_settings.CLOCK_SKEW),
        require=require,
    )
    return trusted, claims


@dataclass(frozen=True)
class ExternalJwt:
    """A JWT from a trusted issuer that passed every rule of :func:`verify_external`."""

    trusted: TrustedIssuer
    claims: dict[str, Any]
    subject: str
    jti: str
    exp: int


def verify_external(token: str, client: ClientInfo) -> ExternalJwt:
    """The one verifier for JWTs from a client's trusted issuers, wherever they arrive: a
    jwt-bearer assertion (RFC 7523 §3) or a token-exchange subject or actor token (RFC 8693
    §2.1). RFC 7523 §3's rules apply to all: signature and issuer, ``aud``, ``exp`` present and
    at most ``JWT_BEARER_MAX_LIFETIME`` ahead, ``iat``/``nbf`` not in the future, a non-empty
    ``sub``, and a ``jti`` (made single use by :func:`consume`). A token refused by one grant
    is thus refused by the other. Raises JoseError with a message safe to show the client."""
    trusted, claims = verify(token, client, require=("exp", "iss", "sub", "aud", "jti"))
    now, skew = time.time(), int(oauth_settings.CLOCK_SKEW)
    sub, jti = claims["sub"], claims["jti"]
    if not isinstance(sub, str) or not sub:
        raise jose.JoseError("The token's sub must be a non-empty string.")
    exp = jose.numeric_date(claims["exp"])
    if exp is None or exp - now > int(oauth_settings.JWT_BEARER_MAX_LIFETIME) + skew:
        raise jose.JoseError("The token expires too far in the future.")
    iat = claims.get("iat")
    if iat is not None and (jose.numeric_date(iat) is None or iat > now + skew):
        raise jose.JoseError("The token was issued in the future (not yet valid).")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise jose.JoseError("The token's jti is invalid.")
    return ExternalJwt(trusted=trusted, claims=claims, subject=sub, jti=jti, exp=exp)


def consume(token: ExternalJwt) -> bool:
    """RFC 7523 §3 item 7: a ``jti`` is accepted once per issuer, whichever grant it arrives
    through, for as long as the token could be valid. False when it was seen before. Call it
    last, so a token refused for another reason is not burnt."""
    ttl = int(token.exp - time.time()) + int(oauth_settings.CLOCK_SKEW)
    return replay.first_use("external_jwt", f"{token.trusted.issuer}\x00{token.jti}", ttl)


def user_by_mapping(issuer: str, sub: str, claims: dict[str, Any], mapping: str = "") -> Any:
    """Default ``EXTERNAL_USER_LOOKUP``: no user unless the client's entry for this issuer
    says how its subjects map (``"subject_mapping": "username"``: ``sub`` is the local
    username). Mapping every trusted issuer's ``sub`` to a username by default let any issuer
    a client trusts mint tokens for ``sub=admin``; trust in an issuer's signatures is not
    trust in its naming of this site's accounts."""
    if mapping != "username":
        return None
    return user_by_username(issuer, sub, claims)


def user_by_username(issuer: str, sub: str, claims: dict[str, Any]) -> Any:
    """The user whose ``USERNAME_FIELD`` equals ``sub``, whatever the issuer. Name it as
    ``EXTERNAL_USER_LOOKUP`` (the former default) only when every issuer any client trusts
    names this site's users by their usernames; otherwise prefer ``subject_mapping`` per
    issuer, or a lookup of linked identities keyed by (issuer, sub)."""
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: sub}).first()


def resolve_user(trusted: TrustedIssuer, sub: str, claims: dict[str, Any]) -> Any:
    """The active local user for an external subject, or None."""
    lookup = oauth_settings.EXTERNAL_USER_LOOKUP
    if lookup is user_by_mapping:
        user = user_by_mapping(trusted.issuer, sub, claims, trusted.subject_mapping)
    else:
        user = lookup(trusted.issuer, sub, claims)
    if user is None or not getattr(user, "is_active", False):
        return None
    return user
