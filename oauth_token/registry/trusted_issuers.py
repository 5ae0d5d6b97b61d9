"""JWTs signed by issuers a client trusts: jwt-bearer assertions (RFC 7523 §2.1, §3) and
token-exchange subject or actor tokens of type ``jwt`` (RFC 8693 §2.1, §3).

A client lists the issuers it trusts in ``Client.trusted_issuers``, a JSON list of objects::

    [{"issuer": "https://idp.example.com/",
      "jwks_uri": "https://idp.example.com/.well-known/jwks.json",   # or "jwks": {...}
      "audiences": ["https://auth.example.com/"],    # optional; default: this server
      "algorithms": ["RS256"]}]                      # optional; default: every asymmetric alg

Trust is per client: an issuer trusted by one client cannot mint grants for another. Only
asymmetric algorithms are accepted, since this server holds no secret shared with an issuer,
and a token must name this server (or a configured audience) in ``aud`` so that a JWT minted
for some other relying party cannot be replayed here (RFC 7523 §3 item 3).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, jose, jwks
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


def user_by_username(issuer: str, sub: str, claims: dict[str, Any]) -> Any:
    """Default ``EXTERNAL_USER_LOOKUP``: the user whose ``USERNAME_FIELD`` equals ``sub``.

    Replace it (dotted path) when the trusted issuer's subjects are not local usernames, for
    example to look up a table of linked identities keyed by (issuer, sub)."""
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: sub}).first()


def resolve_user(issuer: str, sub: str, claims: dict[str, Any]) -> Any:
    """The active local user for an external subject, or None."""
    user = oauth_settings.EXTERNAL_USER_LOOKUP(issuer, sub, claims)
    if user is None or not getattr(user, "is_active", False):
        return None
    return user
