"""What flows between pipeline stages, and the base class every grant strategy extends.

view → client authentication → DPoP → ``grant.validate(context)`` → issuance → response. A
grant decides *what* to issue and never renders or signs anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..conf import oauth_settings
from ..errors import InvalidScope, InvalidTarget
from ..lookups import ApiInfo, ClientInfo, get_api
from ..request import TokenRequest


@dataclass(frozen=True)
class TokenContext:
    """A request that has passed client authentication (and DPoP, when a proof was sent)."""

    request: TokenRequest
    client: ClientInfo
    auth_method: str
    dpop_jkt: str | None = None

    @property
    def grant_type(self) -> str:
        return self.request.require("grant_type")


@dataclass(frozen=True)
class GrantResult:
    """What to issue. ``subject`` becomes ``sub``; ``api`` the audience and lifetime."""

    subject: str
    api: ApiInfo | None
    scopes: tuple[str, ...]
    user: Any = None
    auth_time: int | None = None
    nonce: str | None = None
    extra_claims: dict[str, Any] = field(default_factory=dict)
    # Set by grants that hand over a refresh-token family or need issuance to record what it
    # issued (e.g. an authorization code, so a replay can revoke those tokens).
    refresh_family: Any = None
    source: Any = None
    issued_token_type: str | None = None
    # A refresh-token family normally needs a user; a grant acting for no user sets this to
    # allow one anyway (refresh_tokens.is_eligible).
    allow_refresh_without_user: bool = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


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
        identifier = audience or oauth_settings.DEFAULT_AUDIENCE
        if not identifier:
            if required:
                raise InvalidTarget("No audience was requested and no default audience is set.")
            return None
        api = get_api(identifier)
        if api is None:
            raise InvalidTarget("The requested audience is not a known API.")
        return api

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
