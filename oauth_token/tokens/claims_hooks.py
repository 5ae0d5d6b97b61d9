"""Project claims hooks (``ACCESS_TOKEN_CLAIMS``, ``ID_TOKEN_CLAIMS``), like Auth0 Actions'
``api.accessToken.setCustomClaim`` / ``api.idToken.setCustomClaim``.

A hook is ``f(claims, context) -> Mapping``: ``claims`` is a read-only view of what is about to
be signed, ``context`` a frozen :class:`ClaimsContext`; what it returns is added. Registered
claims (RFC 7519 §4.1, RFC 9068 §2.2, RFC 9449 §6.1, OIDC Core §2) cannot be overridden: an
attempt is logged and ignored. A hook that raises, or returns something that is not a mapping
of JSON values, is a logged ``server_error``; the token request runs in one transaction, so the
code or refresh token it presented is not consumed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.errors import ServerError
from oauth_token.registry.snapshots import ApiInfo, ClientInfo

logger = logging.getLogger("oauth_token.claims")

ACCESS_TOKEN_REGISTERED = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "client_id",
        "azp",
        "scope",
        "cnf",
        "auth_time",
        "act",
        "permissions",
    }
)
ID_TOKEN_REGISTERED = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "azp",
        "auth_time",
        "nonce",
        "at_hash",
        "c_hash",
        "sid",
        "acr",
        "amr",
        "cnf",
    }
)

Hook = Callable[[Mapping[str, Any], "ClaimsContext"], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ClaimsContext:
    """What a hook may read: the client and API snapshots (frozen), the user (a Django user,
    None for a client acting for itself), the grant type and the scopes granted.
    ``organization`` is reserved for organizations and always None for now."""

    client: ClientInfo
    api: ApiInfo | None
    user: Any
    grant_type: str
    scopes: tuple[str, ...]
    organization: Any = None


def access_token_hook() -> Hook | None:
    hook: Hook | None = oauth_settings.ACCESS_TOKEN_CLAIMS
    return hook


def id_token_hook() -> Hook | None:
    hook: Hook | None = oauth_settings.ID_TOKEN_CLAIMS
    return hook


def access_token_claims(claims: Mapping[str, Any], context: ClaimsContext) -> dict[str, Any]:
    return _run("ACCESS_TOKEN_CLAIMS", ACCESS_TOKEN_REGISTERED, claims, context)


def id_token_claims(claims: Mapping[str, Any], context: ClaimsContext) -> dict[str, Any]:
    return _run("ID_TOKEN_CLAIMS", ID_TOKEN_REGISTERED, claims, context)


def _run(
    setting: str,
    registered: frozenset[str],
    claims: Mapping[str, Any],
    context: ClaimsContext,
) -> dict[str, Any]:
    hook: Hook | None = getattr(oauth_settings, setting)
    if hook is None:
        return {}
    try:
        added = hook(MappingProxyType(dict(claims)), context)
    except Exception as exc:
        logger.exception("%s hook raised %s", setting, type(exc).__name__)
        raise ServerError("A claims hook failed.") from exc
    if added is None:
        return {}
    if not isinstance(added, Mapping):
        logger.error("%s hook returned %s, not a mapping", setting, type(added).__name__)
        raise ServerError("A claims hook failed.")
    result: dict[str, Any] = {}
    for name, value in added.items():
        if not isinstance(name, str) or name in registered:
            logger.warning(
                "%s hook tried to set the registered claim %r; ignored",
                setting,
                name,
                extra={"claim": str(name), "client_id": context.client.client_id},
            )
            continue
        result[name] = value
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        logger.error("%s hook returned a claim that is not JSON: %s", setting, exc)
        raise ServerError("A claims hook failed.") from exc
    return result
