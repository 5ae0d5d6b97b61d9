"""The base class every grant strategy extends (the documented extension point).

view → client authentication → DPoP → ``grant.run(context)`` (``validate`` → issuance, in the
transaction the grant needs) → response. A grant decides *what* to issue and never renders or
signs anything itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from django.db import transaction

from oauth_token.core.rows import Contended
from oauth_token.errors import InvalidScope, InvalidTarget
from oauth_token.registry import policies, resources
from oauth_token.registry.policies import OIDC_SCOPES
from oauth_token.registry.snapshots import ApiInfo
from oauth_token.token_endpoint.context import GrantResult, IssuedTokens, TokenContext
from oauth_token.token_endpoint.issuance import issue
from oauth_token.token_endpoint.request import TokenRequest


class BaseGrant:
    """One subclass per grant type; ``validate`` states its checks in RFC order."""

    grant_type: ClassVar[str]
    # Shown in discovery's grant_types_supported.
    advertised: ClassVar[bool] = True
    # Whether validation and issuance must share one transaction (a grant whose validate()
    # writes, such as consuming a device code). Grants that only read may skip it: it is a
    # BEGIN on SQLite.
    atomic: ClassVar[bool] = True
    # A grant whose validate() only reads, and whose single-use artefact issuance consumes
    # with a guarded UPDATE (codes, refresh tokens) or that consumes nothing (password):
    # validate() runs outside any transaction, and issuance signs first and then writes in
    # one short transaction. On SQLite, whose single write lock every writer queues for, the
    # lock then covers a few statements instead of the signatures (and a password hash).
    writes_after_signing: ClassVar[bool] = False

    def validate(self, context: TokenContext) -> GrantResult:
        raise NotImplementedError

    def run(self, context: TokenContext) -> IssuedTokens:
        """Validate, then issue, in the transaction this grant needs. A grant that writes
        after signing and whose guarded write found its artefact changed since validate()
        read it (``Contended``: a concurrent use, a revocation) is decided again inside one
        transaction with ``context.locked``, where it locks what it reads; what the first
        attempt signed is discarded unsent."""
        if self.writes_after_signing:
            try:
                return issue(self.validate(context), context)
            except Contended:
                context = replace(context, locked=True)
        elif not self.atomic:
            return issue(self.validate(context), context)
        with transaction.atomic():
            return issue(self.validate(context), context, in_grant_transaction=True)

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
