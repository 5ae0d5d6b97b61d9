"""The base class every grant strategy extends (the documented extension point).

view → client authentication → DPoP → ``grant.validate(context)`` → issuance → response. A
grant decides *what* to issue and never renders or signs anything itself.
"""

from __future__ import annotations

from typing import ClassVar

from oauth_token.errors import InvalidScope
from oauth_token.registry import policies
from oauth_token.registry.snapshots import ApiInfo
from oauth_token.token_endpoint.context import GrantResult, TokenContext


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
