"""Where a protected resource publishes its metadata (RFC 9728 §3.1).

The metadata URL of a resource is derived from its identifier by inserting
``/.well-known/oauth-protected-resource`` between the host and the path, and the document
served there must name exactly that identifier as ``resource`` (§3.3). Both directions of the
derivation live here, so the view that publishes the document and the authentication class
that points clients at it (``WWW-Authenticate: Bearer resource_metadata=...``, §5.1) agree.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

WELL_KNOWN = "/.well-known/oauth-protected-resource"
# A view class that publishes RFC 9728 metadata carries this attribute (set to True), so the
# lower layers can recognise it in the URLconf without importing the views package.
MARKER = "publishes_protected_resource_metadata"


def metadata_url(resource: str) -> str | None:
    """RFC 9728 §3.1: ``https://host/path`` → ``https://host/.well-known/oauth-protected-
    resource/path``; None for an identifier that is not an http(s) URL (no metadata URL can
    be derived from ``urn:...`` or an Auth0-style name) or that has a query or fragment."""
    try:
        parts = urlsplit(resource)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        return None
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def resource_from_metadata_path(scheme: str, host: str, path: str) -> str:
    """The inverse of ``metadata_url``: the identifier a request for ``path`` on ``host``
    is about (used when a view is mounted without naming its resource)."""
    suffix = path[len(WELL_KNOWN) :] if path.startswith(WELL_KNOWN) else path
    return f"{scheme}://{host}{suffix}"


@lru_cache(maxsize=256)
def published_metadata_url(resource: str) -> str | None:
    """The metadata URL of ``resource`` when this project publishes it: the derived URL's path
    resolves, in the URLconf, to a metadata view for that resource (or one that derives it
    from the request). Memoised per identifier; cleared when settings (or the URLconf) change."""
    url = metadata_url(resource)
    if url is None:
        return None
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    view_class = getattr(match.func, "view_class", None)
    if not getattr(view_class, MARKER, False):
        return None
    named = getattr(match.func, "view_initkwargs", {}).get("resource")
    if named is not None and named != resource:
        return None
    return url


def clear_cache(**kwargs: object) -> None:
    """A ``setting_changed`` receiver (ROOT_URLCONF in tests), connected in ``ready``."""
    published_metadata_url.cache_clear()
