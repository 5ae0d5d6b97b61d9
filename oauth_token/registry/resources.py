"""Resource indicators (RFC 8707): which API identifiers a request names.

``resource`` names an API exactly as Auth0's ``audience`` does (its identifier), so both are
accepted wherever either is: at /authorize, at /oauth/par and by every grant. RFC 8707 §2
lets a client send ``resource`` several times; request parsers keep the repeated values
together as one space-separated string (an absolute URI never contains a space), and this
module splits them again.

Rules, all answered with ``invalid_target`` (RFC 8707 §2):

- a resource must be an absolute URI without a fragment (§2);
- ``audience`` and ``resource`` naming different APIs conflict;
- a token request names at most one resource (§2.2: the access token is for one API; a code
  or refresh token granted for several is narrowed to one per token request).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from oauth_token.errors import InvalidTarget

# The most resources one authorization request may name: enough for any real client, small
# enough that validating and storing them costs nothing.
MAX_RESOURCES = 10


def join(values: list[str]) -> str:
    """Repeated ``resource`` values as the one string request parsers carry."""
    return " ".join(values)


def split(raw: str | None) -> tuple[str, ...]:
    """The resources a request named, once each, in order; each checked (RFC 8707 §2)."""
    values = tuple(dict.fromkeys((raw or "").split()))
    if len(values) > MAX_RESOURCES:
        raise InvalidTarget(f"At most {MAX_RESOURCES} resources may be requested at once.")
    for value in values:
        check(value)
    return values


def check(value: str) -> None:
    """RFC 8707 §2: "an absolute URI ... MUST NOT include a fragment component"."""
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidTarget("The resource is not a valid absolute URI.") from exc
    if not parts.scheme or not (parts.netloc or parts.path):
        raise InvalidTarget("The resource must be an absolute URI.")
    if "#" in value:
        raise InvalidTarget("The resource must not contain a fragment.")


def requested(audience: str | None, resource: str | None) -> tuple[str, ...]:
    """Every API a request names through ``audience`` and ``resource`` (possibly none, when
    the default audience applies). Both present must name the same single API."""
    resources = split(resource)
    if audience and resources:
        if resources != (audience,):
            raise InvalidTarget("audience and resource name different targets.")
        return resources
    if audience:
        return (audience,)
    return resources


def requested_one(audience: str | None, resource: str | None) -> str | None:
    """The one API a token request names (RFC 8707 §2.2), or None for the default."""
    named = requested(audience, resource)
    if len(named) > 1:
        raise InvalidTarget("A token request may name only one resource.")
    return named[0] if named else None
