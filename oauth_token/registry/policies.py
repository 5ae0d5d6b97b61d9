"""Which API a request targets and which scopes may be granted on it: one rule set for
/authorize, PAR, the device flow and every grant.

Auth0's ``audience`` and RFC 8707's ``resource`` both name an API by its identifier; a request
naming none gets the configured default audience (or, where that is allowed, no API at all: an
OpenID Connect-only grant whose tokens serve /userinfo).
"""

from __future__ import annotations

from collections.abc import Iterable

from oauth_token.conf import oauth_settings
from oauth_token.errors import InvalidScope, InvalidTarget
from oauth_token.registry import resources
from oauth_token.registry.snapshots import ApiInfo, ClientInfo, get_api

# Scopes that need no API: OIDC Core §5.4, §11.
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


def resolve_api(audience: str | None, *, required: bool) -> ApiInfo | None:
    """The API named by ``audience``, else the default audience; ``invalid_target`` when it
    is unknown (RFC 8707 §2), or when none is named and ``required``."""
    identifier = audience or oauth_settings.DEFAULT_AUDIENCE
    if not identifier:
        if required:
            raise InvalidTarget("No audience was requested and no default audience is set.")
        return None
    api = get_api(identifier)
    if api is None:
        raise InvalidTarget("The requested audience is not a known API.")
    return api


def offline_access_allowed(client: ClientInfo, api: ApiInfo | None, scopes: Iterable[str]) -> bool:
    """Whether ``offline_access`` stays among the granted scopes: only when a refresh token can
    follow from it (OIDC Core §11). The client must be allowed the refresh_token grant, and the
    API must allow offline access; with no API, an OpenID grant (``openid``) qualifies, as at
    Auth0, and its refresh tokens then serve /userinfo."""
    if not client.allows_grant("refresh_token"):
        return False
    if api is None:
        return "openid" in scopes
    return bool(api.allow_offline_access)


def resolve_target(audience: str | None, resource: str | None, *, required: bool) -> ApiInfo | None:
    """The one API a token request (or device authorization request) names with ``audience``
    or ``resource`` (RFC 8707 §2.2: one per request; both only when equal)."""
    return resolve_api(resources.requested_one(audience, resource), required=required)


def resolve_apis(audience: str | None, resource: str | None) -> tuple[ApiInfo, ...]:
    """RFC 8707 §2: every API an authorization request names with ``audience`` or (possibly
    repeated) ``resource``, each known, or ``invalid_target``; naming none means the default
    audience, or no API at all (an OpenID Connect-only login)."""
    named = resources.requested(audience, resource) or (None,)
    return tuple(api for api in (resolve_api(n, required=False) for n in named) if api)


def grantable_scopes_across(
    requested: Iterable[str] | None, client: ClientInfo, apis: tuple[ApiInfo, ...]
) -> tuple[str, ...]:
    """``grantable_scopes`` for a request naming several APIs: the scopes grantable on any of
    them, once each, in the order requested."""
    if len(apis) <= 1:
        return grantable_scopes(requested, client, apis[0] if apis else None)
    ordered = tuple(dict.fromkeys(requested or ()))
    allowed = {s for api in apis for s in grantable_scopes(ordered, client, api)}
    return tuple(s for s in ordered if s in allowed)


def grantable_scopes(
    requested: Iterable[str] | None, client: ClientInfo, api: ApiInfo | None
) -> tuple[str, ...]:
    """Requested scopes this server understands (OIDC Core §5.4: others are ignored, as Auth0
    does), once each, in the order requested. ``offline_access`` stays only when a refresh
    token can follow from it (:func:`offline_access_allowed`).
    Without an API only the OpenID scopes can mean anything, so ``openid`` is required."""
    known = set(OIDC_SCOPES) | set(api.scopes if api else ())
    scopes = [s for s in dict.fromkeys(requested or ()) if s in known]
    if "offline_access" in scopes and not offline_access_allowed(client, api, scopes):
        scopes.remove("offline_access")
    if api is None and "openid" not in scopes:
        raise InvalidScope("Request the openid scope or name an API with audience.")
    return tuple(scopes)


def still_defined(scopes: Iterable[str], api: ApiInfo | None) -> tuple[str, ...]:
    """``scopes`` less any the API no longer defines (OpenID scopes need no API): a grant
    made earlier (a refresh-token family, a client grant) never outlives a scope the API
    has dropped."""
    known = set(OIDC_SCOPES) | set(api.scopes if api else ())
    return tuple(s for s in scopes if s in known)
