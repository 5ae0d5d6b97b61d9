"""Fetching a JWK Set from a client's (or trusted issuer's) ``jwks_uri``, cached.

Fetched sets live in the shared cache for JWKS_CACHE_SECONDS; an unknown ``kid`` triggers at
most one refetch per minute, so a rotated client key is picked up quickly while a stream of
garbage kids cannot turn the server into a request amplifier (one extra fetch per minute).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import cache
from oauth_token.core.jose import JoseError

logger = logging.getLogger("oauth_token")
_MAX_BYTES = 256 * 1024
_REFETCH_AFTER = 60


def _download(uri: str) -> dict[str, Any]:
    if not uri.startswith(("https://", "http://")):
        raise JoseError("The jwks_uri must be an http(s) URL.")
    request = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310 - scheme checked above
            request, timeout=float(oauth_settings.JWKS_FETCH_TIMEOUT)
        ) as response:
            raw = response.read(_MAX_BYTES + 1)
    except OSError as exc:
        logger.warning("oauth_token could not fetch a jwks_uri: %s", type(exc).__name__)
        raise JoseError("The client's JWK Set could not be fetched.") from exc
    if len(raw) > _MAX_BYTES:
        raise JoseError("The client's JWK Set is too large.")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise JoseError("The client's JWK Set is not JSON.") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JoseError("The client's JWK Set has no 'keys'.")
    return document


def fetch(uri: str, *, want_kid: str | None = None) -> dict[str, Any]:
    """The JWK Set at ``uri``. A ``kid`` the cached set lacks means the client rotated its
    keys: refetch at once, but at most once per _REFETCH_AFTER seconds per URI."""
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
    document = _download(uri)
    cache.set(
        key,
        {"jwks": document, "fetched_at": time.time(), "refetched_at": refetched_at},
        int(oauth_settings.JWKS_CACHE_SECONDS),
    )
    return document
