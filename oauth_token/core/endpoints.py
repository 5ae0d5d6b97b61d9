"""Absolute URLs of this server's endpoints, derived from the issuer.

Claims such as ``aud`` of client assertions and ``htu`` of DPoP proofs are compared with these
rather than with the incoming Host header, so a proxy or a forged Host cannot change them.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from django.urls import NoReverseMatch, reverse

from oauth_token.conf import oauth_settings
from oauth_token.errors import ConfigurationError


def issuer() -> str:
    value = oauth_settings.ISSUER
    if not value:
        raise ConfigurationError("OAUTH_TOKEN['ISSUER'] is not set.")
    return str(value)


@lru_cache(maxsize=64)
def _url(name: str, iss: str) -> str:
    parts = urlsplit(iss)
    return f"{parts.scheme}://{parts.netloc}{reverse(name)}"


def url(name: str) -> str:
    """Absolute URL of the named ``oauth_token`` route (e.g. ``"token"``)."""
    return _url(f"oauth_token:{name}", issuer())


def url_or_none(name: str) -> str | None:
    try:
        return url(name)
    except NoReverseMatch:
        return None


def token_endpoint() -> str:
    return url("token")


def issuer_aliases() -> frozenset[str]:
    """Values an assertion's ``aud`` may take to name this server (RFC 7523 §3 item 3)."""
    iss = issuer()
    return frozenset({iss, iss.rstrip("/"), token_endpoint()})


def clear_cache(**kwargs: object) -> None:
    """Forget resolved URLs (a ``setting_changed`` receiver, connected in ``AppConfig.ready``)."""
    _url.cache_clear()
