"""The key that verifies a JWT from a party that registered a JWK Set (RFC 7517 §5), inline or
at a ``jwks_uri``: clients authenticating with ``private_key_jwt`` (RFC 7523 §2.2, OIDC Core
§9) and the issuers a client trusts (RFC 7523 §2.1, RFC 8693 §2.1). One selection rule for
both, so a fix to it (which key may verify which ``alg``) reaches every caller.

Fetched sets live in the shared cache for ``JWKS_CACHE_SECONDS``; an unknown ``kid`` triggers
at most one refetch per minute, so a rotated key is picked up quickly while a stream of garbage
kids cannot turn the server into a request amplifier. Fetching goes through ``core.outbound``
(no redirects, public addresses, a total deadline, failures cached).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import cache, jose, outbound

_REFETCH_AFTER = 60
UNAVAILABLE = "The registered JWK Set could not be retrieved."


def _is_jwk_set(document: dict[str, Any]) -> bool:
    return isinstance(document.get("keys"), list)


def fetch(uri: str, *, want_kid: str | None = None) -> dict[str, Any]:
    """The JWK Set at ``uri``. A ``kid`` the cached set lacks means the owner rotated its
    keys: refetch at once, but at most once per _REFETCH_AFTER seconds per URI. Raises
    JoseError(UNAVAILABLE) whatever the reason the set could not be had."""
    key = cache.key("jwks_uri", uri)
    hit = cache.get(key)
    refetched_at = None
    if isinstance(hit, dict):
        kids = {k.get("kid") for k in hit["jwks"]["keys"] if isinstance(k, dict)}
        if want_kid is None or want_kid in kids:
            return dict(hit["jwks"])
        refetched_at = hit.get("refetched_at")
        if refetched_at is not None and time.time() - refetched_at < _REFETCH_AFTER:
            return dict(hit["jwks"])
        refetched_at = time.time()
    try:
        document = outbound.get_json(uri, valid=_is_jwk_set)
    except outbound.OutboundError as exc:
        raise jose.JoseError(UNAVAILABLE) from exc
    cache.set(
        key,
        {"jwks": document, "fetched_at": time.time(), "refetched_at": refetched_at},
        int(oauth_settings.JWKS_CACHE_SECONDS),
    )
    return document


def select(jwks: Mapping[str, Any], alg: str, kid: str | None) -> dict[str, Any]:
    """The one signing key of ``jwks`` that can verify ``alg`` (by its type, curve and declared
    ``alg``), with ``kid`` when the token names one and ``use`` absent or ``sig`` (RFC 7517
    §4.2). Zero or several candidates is a refusal: guessing among keys invites confusion."""
    keys = jwks.get("keys")
    candidates = [
        k
        for k in (keys if isinstance(keys, list) else [])
        if isinstance(k, dict)
        and alg in jose.algorithms_for_jwk(k)
        and (kid is None or k.get("kid") == kid)
        and k.get("use", "sig") == "sig"
    ]
    if len(candidates) != 1:
        raise jose.JoseError("No registered key matches the token.")
    return candidates[0]


def verification_key(
    inline: Mapping[str, Any] | None, jwks_uri: str, alg: str, kid: str | None
) -> Any:
    """The verification key for a token signed with ``alg`` (and ``kid``) by the owner of
    ``inline`` keys or, when there are none, of the set at ``jwks_uri``. Raises JoseError."""
    if not inline and not jwks_uri:
        raise jose.JoseError("No registered key matches the token.")
    jwks = inline or fetch(jwks_uri, want_kid=kid)
    return jose.public_key_from_jwk(select(jwks, alg, kid))
