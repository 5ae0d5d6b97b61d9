"""The base class every grant strategy extends (the documented extension point).

view → client authentication → DPoP → ``grant.validate(context)`` → issuance → response. A
grant decides *what* to issue and never renders or signs anything itself.
"""

from __future__ import annotations

from typing import ClassVar

from oauth_token.errors import InvalidScope, InvalidTarget
from oauth_token.registry import policies, resources
from oauth_token.registry.policies import OIDC_SCOPES
from oauth_token.registry.snapshots import ApiInfo
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.token_endpoint.request import TokenRequest


class BaseGrant:
    """One subclass per grant type; ``validate`` states its checks in RFC order."""

    grant_type: ClassVar[str]
    # Shown in discovery's grant_types_supported.
    advertised: ClassVar[bool] = True
    # Whether validation and issuance must share one transaction (anything that consumes a
    # single-use artefact). Grants that only read may skip it: it is a BEGIN on SQLite.
    atomic: ClassVar[bool] = True

    def validate(self, context: TokenContext) -> GrantResult:
        raise NotImplementedError

    # Helpers shared by grants -------------------------------------------------------------

    @staticmethod
    def resolve_api(audience: str | None, *, required: bool = True) -> ApiInfo | None:
        """The API named by ``audience`` (Auth0), or the configured default audience."""
        return policies.resolve_api(audience, required=required)

    @staticmethod
    def narrow_scopes(
        requested: tuple[str, ...] | None, allowed: frozenset[str] | tuple[str, ...]
    ) -> tuple[str, ...]:
        """Requested ⊆ allowed, or ``invalid_scope``; absent means everything allowed."""
        if requested is None:
            return tuple(sorted(allowed))
        extra = [s for s in requested if s not in allowed]
        if extra:
            raise InvalidScope(f"Scope not allowed: {' '.join(extra)[:200]}.")
        return requested

    @staticmethod
    def target(request: TokenRequest) -> str | None:
        """The API a token request names: Auth0's ``audience`` or RFC 8707's ``resource``
        (one; both only when equal), or None for the default audience."""
        return resources.requested_one(request.get("audience"), request.get("resource"))

    @staticmethod
    def granted_resource(granted: tuple[str, ...], default: str, resource: str | None) -> str:
        """RFC 8707 §2.2: a code or refresh token granted for several APIs is redeemed for
        one per token request: the ``resource`` named, which must be one granted, else the
        first granted (``default``)."""
        named = resources.requested_one(None, resource)
        if named is None:
            return default
        if named not in granted:
            raise InvalidTarget("The requested resource was not granted to this client.")
        return named

    @staticmethod
    def scopes_for_resource(
        scopes: tuple[str, ...], api: ApiInfo | None, granted: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Of the scopes granted for several APIs, those of the API the token is for (and the
        OpenID scopes): a token for one API never carries another's scopes."""
        if len(granted) <= 1 or api is None:
            return scopes
        return tuple(s for s in scopes if s in api.scopes or s in OIDC_SCOPES)
