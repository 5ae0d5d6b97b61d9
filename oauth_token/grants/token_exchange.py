from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import jose
from oauth_token.errors import InvalidGrant, InvalidRequest, InvalidTarget, InvalidToken
from oauth_token.grants.base import BaseGrant
from oauth_token.registry import exchange_policy, policies, trusted_issuers
from oauth_token.registry.snapshots import ApiInfo, ClientInfo
from oauth_token.token_endpoint import dpop
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.tokens import access_tokens, inspection
from oauth_token.tokens.access_tokens import AccessTokenClaims, user_for_claims
from oauth_token.tokens.claims import subject as subject_of

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
CLIENT_SUFFIX = "@clients"


@dataclass(frozen=True)
class PresentedToken:
    """A verified subject or actor token (RFC 8693 §2.1): who it names and what it allowed."""

    subject: str
    user: Any
    scopes: tuple[str, ...]
    claims: dict[str, Any]
    external_issuer: str | None = None

    def as_actor(self) -> dict[str, Any]:
        """RFC 8693 §4.1: the ``act`` member naming this token's subject."""
        actor: dict[str, Any] = {"sub": self.subject}
        if self.external_issuer:
            actor["iss"] = self.external_issuer
        return actor


class TokenExchangeGrant(BaseGrant):
    """RFC 8693: a client trades a ``subject_token`` (this server's access or ID token, or a
    JWT from one of its trusted issuers) for an access token for another API, optionally
    acting for the subject with an ``actor_token`` (recorded in ``act``, §4.1).

    Policy (§5): the client may only target the audiences its ``exchange_audiences`` lists,
    and never gets scopes the subject token did not carry, except those its policy entry
    allows. Errors as §2.2.2: a bad or unacceptable subject or actor token is
    ``invalid_request``; a target the policy refuses is ``invalid_target``; a subject that no
    longer maps to an active user is ``invalid_grant``."""

    grant_type = GRANT_TYPE

    def validate(self, context: TokenContext) -> GrantResult:
        request, client = context.request, context.client
        requested_type = request.get("requested_token_type") or ACCESS_TOKEN
        if requested_type != ACCESS_TOKEN:
            raise InvalidRequest("Only access tokens can be requested (requested_token_type).")
        subject = self.read_token(
            request.require("subject_token"), request.require("subject_token_type"), context
        )
        if subject.user is None and subject.subject != f"{client.client_id}{CLIENT_SUFFIX}":
            raise InvalidRequest("The subject_token must represent a user or this client.")
        actor = self._actor(context, subject)
        api, rule = self._target(context)
        scopes = self._scopes(request.scopes(), subject, api, rule)
        extra: dict[str, Any] = {}
        prior = subject.claims.get("act")
        if actor is not None:
            extra["act"] = {**actor.as_actor(), **({"act": prior} if prior else {})}
        elif prior:
            extra["act"] = prior
        return GrantResult(
            subject=subject.subject,
            api=api,
            scopes=scopes,
            user=subject.user,
            extra_claims=extra,
            issued_token_type=ACCESS_TOKEN,
        )

    # --- the presented tokens -------------------------------------------------------------

    def read_token(
        self, token: str, token_type: str, context: TokenContext, role: str = "subject"
    ) -> PresentedToken:
        client = context.client
        if token_type == ACCESS_TOKEN:
            return self._own_access_token(token, role, context.dpop_jkt)
        if token_type == ID_TOKEN:
            return self._own_id_token(token, client, role)
        if token_type == JWT:
            return self._trusted_jwt(token, client, role)
        raise InvalidRequest(f"Unsupported {role}_token_type.")

    @staticmethod
    def _own_access_token(token: str, role: str, dpop_jkt: str | None) -> PresentedToken:
        """A DPoP-bound token (RFC 9449 §6) is only usable with a proof of its key, so the
        exchange request must carry a DPoP proof made with that key; otherwise a stolen bound
        token could be traded for an unbound one."""
        found = inspection.AccessTokens().find(token)
        if found is None:
            raise InvalidRequest(f"The {role}_token is not an access token issued here.")
        if not found.active:
            raise InvalidRequest(f"The {role}_token is expired, revoked or no longer valid.")
        claims = found.handle
        cnf = claims.get("cnf")
        bound = cnf.get("jkt") if isinstance(cnf, dict) else None
        if not dpop.proves_binding(str(bound) if bound is not None else None, dpop_jkt):
            raise InvalidRequest(
                f"The {role}_token is DPoP-bound: send a DPoP proof made with its key."
            )
        return PresentedToken(
            subject=claims["sub"],
            user=_user(claims, token) if role == "subject" else None,
            scopes=tuple(str(claims.get("scope", "")).split()),
            claims=claims,
        )

    @staticmethod
    def _own_id_token(token: str, client: ClientInfo, role: str) -> PresentedToken:
        """An ID token is meant for its client (OIDC Core §2), so only that client may
        present it; it carries no scopes of an API."""
        claims = access_tokens.own_jwt_claims(token, access_token=False)
        if claims is None:
            raise InvalidRequest(f"The {role}_token is not an ID token issued here.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            raise InvalidRequest(f"The {role}_token has expired.")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if client.client_id not in audiences:
            raise InvalidRequest(f"The {role}_token was issued to another client.")
        user = _user(claims, token) if role == "subject" else None
        return PresentedToken(subject=str(claims["sub"]), user=user, scopes=(), claims=claims)

    @staticmethod
    def _trusted_jwt(token: str, client: ClientInfo, role: str) -> PresentedToken:
        try:
            trusted, claims = trusted_issuers.verify(token, client)
        except jose.JoseError as exc:
            raise InvalidRequest(f"The {role}_token is invalid: {exc}") from exc
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidRequest(f"The {role}_token has no subject.")
        user = trusted_issuers.resolve_user(trusted.issuer, sub, claims)
        if role == "actor":
            return PresentedToken(sub, user, (), claims, external_issuer=trusted.issuer)
        if user is None:
            raise InvalidGrant("The subject_token's subject is not a known, active user.")
        return PresentedToken(
            subject=subject_of(user),
            user=user,
            scopes=_external_scopes(claims),
            claims=claims,
            external_issuer=trusted.issuer,
        )

    def _actor(self, context: TokenContext, subject: PresentedToken) -> PresentedToken | None:
        request = context.request
        token, token_type = request.get("actor_token"), request.get("actor_token_type")
        if token is None:
            if token_type is not None:
                raise InvalidRequest("actor_token_type was sent without an actor_token.")
            return None
        if token_type is None:
            raise InvalidRequest("Missing required parameter: actor_token_type.")
        actor = self.read_token(token, token_type, context, role="actor")
        may_act = subject.claims.get("may_act")
        if isinstance(may_act, dict) and not _matches(may_act, actor):
            raise InvalidRequest("The actor is not allowed to act for the subject (may_act).")
        return actor

    # --- policy -----------------------------------------------------------------------------

    def _target(self, context: TokenContext) -> tuple[ApiInfo, exchange_policy.ExchangeRule]:
        """RFC 8693 §2.1: ``audience`` or ``resource`` (an API identifier either way)."""
        request = context.request
        audience, resource = request.get("audience"), request.get("resource")
        if audience and resource and audience != resource:
            raise InvalidTarget("audience and resource name different targets.")
        identifier = audience or resource or oauth_settings.DEFAULT_AUDIENCE
        if not identifier:
            raise InvalidTarget("Name the target API with audience or resource.")
        rule = exchange_policy.rule_for(context.client, identifier)
        if rule is None:
            raise InvalidTarget("This client may not exchange tokens for the requested audience.")
        api = policies.resolve_api(identifier, required=True)
        assert api is not None  # required=True: an unknown or missing API raised
        return api, rule

    def _scopes(
        self,
        requested: tuple[str, ...] | None,
        subject: PresentedToken,
        api: ApiInfo,
        rule: exchange_policy.ExchangeRule,
    ) -> tuple[str, ...]:
        """Never wider than the subject token's scopes (plus the policy's extra scopes), and
        only scopes the target API defines. Absent ``scope`` means all of those."""
        carried = [s for s in subject.scopes if s in api.scopes]
        extra = [s for s in rule.extra_scopes if s in api.scopes and s not in carried]
        permitted = tuple(carried + extra)
        if requested is None:
            return tuple(carried)
        return self.narrow_scopes(requested, permitted)


def _user(claims: dict[str, Any], token: str) -> Any:
    """The active user a token of ours names, None for a client's own token."""
    if str(claims["sub"]).endswith(CLIENT_SUFFIX):
        return None
    try:
        return user_for_claims(AccessTokenClaims(claims, token, "Bearer"))
    except InvalidToken as exc:
        raise InvalidGrant("The subject_token's user is unknown or inactive.") from exc


def _external_scopes(claims: dict[str, Any]) -> tuple[str, ...]:
    """``scope`` (RFC 8693 §4.2, a string) or ``scp`` (a list, as some issuers send)."""
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return tuple(scope.split())
    if isinstance(scp, list):
        return tuple(s for s in scp if isinstance(s, str))
    return ()


def _matches(may_act: dict[str, Any], actor: PresentedToken) -> bool:
    """RFC 8693 §4.4: every member ``may_act`` names (``sub``, ``iss``) must match."""
    if "sub" in may_act and may_act["sub"] != actor.subject:
        return False
    return "iss" not in may_act or may_act["iss"] == (
        actor.external_issuer or actor.claims.get("iss")
    )
