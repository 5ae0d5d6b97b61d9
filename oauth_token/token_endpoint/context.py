"""What flows, one way, between the token endpoint's stages (README.md, "Layout").

view → client authentication → DPoP → ``grant.validate(context)`` → ``issuance.issue`` → view.
Each stage receives one of these frozen values and returns the next; no stage calls back into
the one that called it, and nothing here is typed ``Any`` where it carries meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oauth_token.models import AuthorizationCode, RefreshToken, RefreshTokenFamily
from oauth_token.registry.snapshots import ApiInfo, ClientInfo
from oauth_token.token_endpoint.request import TokenRequest
from oauth_token.tokens.refresh_tokens import Lifetimes

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# JSON values of claims a grant carries over (a refresh family's, an exchanged token's act).
Claims = dict[str, Any]


@dataclass(frozen=True)
class TokenContext:
    """A request that has passed client authentication (and DPoP, when a proof was sent)."""

    request: TokenRequest
    client: ClientInfo
    auth_method: str
    dpop_jkt: str | None = None
    # Set when validation runs inside the request's transaction and must lock what it
    # consumes: the retry of a grant whose optimistic claim lost a race (BaseGrant.run).
    locked: bool = False

    @property
    def grant_type(self) -> str:
        return self.request.require("grant_type")


@dataclass(frozen=True)
class ContinuedFamily:
    """A refresh-token family the refresh_token grant continues. The grant has already decided
    rotation and derived the successor: ``refresh_token`` is the value to return (None when
    rotation is off and the presented token stays valid). On a rotation, ``rotated_from`` is
    the consumed token: issuance stores its successor together with the access token it mints
    (``refresh_tokens.store_successor``).

    ``unclaimed`` is the presented token when the grant only read it (the optimistic path):
    issuance then claims it, after signing, with one guarded UPDATE (``refresh_tokens.rotate``,
    which stores the successor in the same statement on PostgreSQL; ``refresh_tokens.claim``
    when rotation is off). None when the grant already consumed it under lock."""

    family: RefreshTokenFamily
    refresh_token: str | None = field(default=None, repr=False)
    rotated_from: RefreshToken | None = None
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    unclaimed: RefreshToken | None = None


@dataclass(frozen=True)
class GrantResult:
    """What to issue, as a grant decided it. ``subject`` becomes ``sub``; ``api`` the audience
    and lifetime; ``user`` is the person (None for a client acting for itself)."""

    subject: str
    api: ApiInfo | None
    scopes: tuple[str, ...]
    user: AbstractBaseUser | None = None
    auth_time: int | None = None
    nonce: str | None = None
    # The browser session the grant was made in (OIDC Back-Channel Logout §2.1), for ``sid``.
    sid: str | None = None
    extra_claims: Claims = field(default_factory=dict)
    issued_token_type: str | None = None
    # The refresh_token grant: the family continued (no new family is started).
    continued_family: ContinuedFamily | None = None
    # The authorization_code grant: the code consumed, which records what was issued from it
    # so that a replay can revoke those tokens (RFC 6749 §4.1.2).
    redeemed_code: AuthorizationCode | None = None
    # RFC 8707 §2.2: a grant that covers several APIs (a code for several resources) issues
    # a token for one of them; a new refresh-token family keeps all of them and their scopes,
    # so a refresh may name another.
    granted_resources: tuple[str, ...] = ()
    granted_scopes: tuple[str, ...] | None = None
    # Token exchange (RFC 8693): the access token must not outlive the tokens it was
    # exchanged from (epoch seconds).
    expires_at_most: int | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    jti: str
    claims: Claims
    expires_in: int

    @property
    def expires_at(self) -> int:
        return int(self.claims["exp"])


@dataclass(frozen=True)
class IssuedTokens:
    """Everything issuance created, returned so that nothing needs to be looked up again."""

    access_token: AccessToken
    token_type: str
    scope: tuple[str, ...]
    refresh_token: str | None = field(default=None, repr=False)
    refresh_family: RefreshTokenFamily | None = None
    id_token: str | None = field(default=None, repr=False)
    issued_token_type: str | None = None

    def as_body(self) -> dict[str, Any]:
        """The successful response (RFC 6749 §5.1; RFC 8693 §2.2.1 adds issued_token_type)."""
        body: dict[str, Any] = {
            "access_token": self.access_token.token,
            "token_type": self.token_type,
            "expires_in": self.access_token.expires_in,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.id_token:
            body["id_token"] = self.id_token
        if self.scope:
            body["scope"] = " ".join(self.scope)
        if self.issued_token_type:
            body["issued_token_type"] = self.issued_token_type
        return body
