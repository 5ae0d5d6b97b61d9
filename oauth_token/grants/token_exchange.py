from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, jose
from oauth_token.errors import InvalidGrant, InvalidRequest, InvalidTarget, InvalidToken
from oauth_token.grants.base import BaseGrant
from oauth_token.registry import exchange_policy, policies, trusted_issuers
from oauth_token.registry.snapshots import ApiInfo, ClientInfo
from oauth_token.token_endpoint import dpop
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.tokens import access_tokens, inspection, revocation
from oauth_token.tokens.access_tokens import AccessTokenClaims, user_for_claims
from oauth_token.tokens.claims import subject as subject_of

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
CLIENT_SUFFIX = "@clients"


@dataclass(frozen=True)
class PresentedToken:
    """A verified subject or actor token (RFC 8693 §2.1): who it names, what it allowed, and
    for which audiences, until when, and (for our own access tokens) its ``jti``."""

    subject: str
    user: Any
    scopes: tuple[str, ...]
    claims: dict[str, Any]
    external_issuer: str | None = None
    audiences: tuple[str, ...] = ()
    expires_at: int | None = None
    own_jti: str | None = None
    external: trusted_issuers.ExternalJwt | None = None
    # The client an access token of ours was issued to (ID tokens are checked by ``aud``).
    issued_to: str | None = None

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

    Policy (§5), checked in this order: the client may only target the audiences its
    ``exchange_audiences`` lists; an access token of ours must have been issued to this client
    or to one its rule names in ``sources``; a JWT from a trusted issuer passes the same
    verifier as a jwt-bearer assertion (lifetime, single-use ``jti``); ``may_act`` (§4.4)
    names the actor or, without one, this client. Scopes carry over only within one API (the
    subject token's ``aud`` names the target, by identifier), plus the rule's
    ``extra_scopes``; the new token expires no later than the tokens it came from, and
    revoking the subject access token revokes it (lineage). Errors as §2.2.2: a bad or
    unacceptable subject or actor token is ``invalid_request``; a target the policy refuses is
    ``invalid_target``; a subject that no longer maps to an active user is ``invalid_grant``."""

    grant_type = GRANT_TYPE

    def validate(self, context: TokenContext) -> GrantResult:
        request, client = context.request, context.client
        requested_type = request.get("requested_token_type") or ACCESS_TOKEN
        if requested_type != ACCESS_TOKEN:
            raise InvalidRequest("Only access tokens can be requested (requested_token_type).")
        api, rule = self._target(context)
        subject = self.read_token(
            request.require("subject_token"), request.require("subject_token_type"), context
        )
        self._check_source(subject, client, rule)
        if subject.user is None and subject.subject != f"{client.client_id}{CLIENT_SUFFIX}":
            raise InvalidRequest("The subject_token must represent a user or this client.")
        actor = self._actor(context, subject)
        scopes = self._scopes(request.scopes(), subject, api, rule)
        extra: dict[str, Any] = {}
        prior = subject.claims.get("act")
        if actor is not None:
            extra["act"] = {**actor.as_actor(), **({"act": prior} if prior else {})}
        elif prior:
            extra["act"] = prior
        if subject.own_jti is not None:
            extra[revocation.LINEAGE_CLAIM] = [*revocation.lineage(subject.claims), subject.own_jti]
        self._consume(subject, actor)
        ends = [t.expires_at for t in (subject, actor) if t is not None and t.expires_at]
        return GrantResult(
            subject=subject.subject,
            api=api,
            scopes=scopes,
            user=subject.user,
            extra_claims=extra,
            issued_token_type=ACCESS_TOKEN,
            expires_at_most=min(ends) if ends else None,
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
        jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None
        if len(revocation.lineage(claims)) >= revocation.MAX_EXCHANGE_DEPTH:
            raise InvalidRequest(f"The {role}_token has been exchanged too many times.")
        return PresentedToken(
            subject=claims["sub"],
            user=_user(claims, token) if role == "subject" else None,
            scopes=tuple(str(claims.get("scope", "")).split()),
            claims=claims,
            audiences=_audiences(claims),
            expires_at=jose.numeric_date(claims.get("exp")),
            own_jti=jti,
            issued_to=str(claims.get("client_id", "")),
        )

    @staticmethod
    def _own_id_token(token: str, client: ClientInfo, role: str) -> PresentedToken:
        """An ID token is meant for its client (OIDC Core §2), so only that client may
        present it; it carries no scopes of an API."""
        claims = access_tokens.own_jwt_claims(token, access_token=False)
        if claims is None:
            raise InvalidRequest(f"The {role}_token is not an ID token issued here.")
        exp = jose.numeric_date(claims.get("exp"))
        if exp is None or exp <= time.time():
            raise InvalidRequest(f"The {role}_token has expired.")
        if client.client_id not in _audiences(claims):
            raise InvalidRequest(f"The {role}_token was issued to another client.")
        user = _user(claims, token) if role == "subject" else None
        return PresentedToken(
            subject=str(claims["sub"]), user=user, scopes=(), claims=claims, expires_at=exp
        )

    @staticmethod
    def _trusted_jwt(token: str, client: ClientInfo, role: str) -> PresentedToken:
        """The jwt-bearer grant's verifier (RFC 7523 §3: lifetime, single-use ``jti``), so a
        token refused there is refused here."""
        try:
            verified = trusted_issuers.verify_external(token, client)
        except jose.JoseError as exc:
            raise InvalidRequest(f"The {role}_token is invalid: {exc}") from exc
        trusted, claims, sub = verified.trusted, verified.claims, verified.subject
        user = trusted_issuers.resolve_user(trusted, sub, claims)
        if role != "actor" and user is None:
            raise InvalidGrant("The subject_token's subject is not a known, active user.")
        return PresentedToken(
            subject=sub if role == "actor" else subject_of(user),
            user=user,
            scopes=() if role == "actor" else _external_scopes(claims),
            claims=claims,
            external_issuer=trusted.issuer,
            audiences=_audiences(claims),
            expires_at=verified.exp,
            external=verified,
        )

    def _actor(self, context: TokenContext, subject: PresentedToken) -> PresentedToken | None:
        """The actor token, if any; ``may_act`` in the subject token (RFC 8693 §4.4) must name
        the actor or, when there is none, the requesting client."""
        request = context.request
        token, token_type = request.get("actor_token"), request.get("actor_token_type")
        if token is None and token_type is not None:
            raise InvalidRequest("actor_token_type was sent without an actor_token.")
        if token is not None and token_type is None:
            raise InvalidRequest("Missing required parameter: actor_token_type.")
        actor = None
        if token is not None and token_type is not None:
            actor = self.read_token(token, token_type, context, "actor")
        if "may_act" in subject.claims:
            may_act = subject.claims["may_act"]
            if not isinstance(may_act, dict) or not may_act:
                raise InvalidRequest("The subject_token's may_act claim is malformed.")
            allowed = _matches(may_act, actor) if actor else _names_client(may_act, context.client)
            if not allowed:
                raise InvalidRequest("The actor is not allowed to act for the subject (may_act).")
        return actor

    @staticmethod
    def _consume(subject: PresentedToken, actor: PresentedToken | None) -> None:
        """Last, so a refused exchange does not burn a trusted issuer's token (RFC 7523 §3
        item 7, the same replay cache as the jwt-bearer grant)."""
        for role, token in (("subject", subject), ("actor", actor)):
            if token and token.external and not trusted_issuers.consume(token.external):
                raise InvalidRequest(f"The {role}_token has already been used.")

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

    @staticmethod
    def _check_source(
        subject: PresentedToken, client: ClientInfo, rule: exchange_policy.ExchangeRule
    ) -> None:
        """An access token of ours is exchanged only by the client it was issued to, or by
        a client whose rule for this audience names that one in ``sources`` (RFC 8693 §5:
        the server decides who may exchange what). ID tokens are checked against their own
        ``aud``; a trusted issuer's JWT is trusted per client already."""
        issued_to = subject.issued_to
        if issued_to is None:
            return
        if issued_to != client.client_id and issued_to not in rule.sources:
            raise InvalidRequest(
                "The subject_token was issued to a client this one may not act for."
            )

    def _scopes(
        self,
        requested: tuple[str, ...] | None,
        subject: PresentedToken,
        api: ApiInfo,
        rule: exchange_policy.ExchangeRule,
    ) -> tuple[str, ...]:
        """Scopes carry over only when the subject token was for the target API itself (its
        ``aud`` names the API's identifier: scope names of another API mean nothing here),
        plus the policy's extra scopes; only scopes the API defines. Absent ``scope`` means
        all that carry over."""
        same_api = api.identifier in subject.audiences
        carried = [s for s in subject.scopes if s in api.scopes] if same_api else []
        extra = [s for s in rule.extra_scopes if s in api.scopes and s not in carried]
        permitted = tuple(carried + extra)
        if requested is None:
            return tuple(carried)
        return self.narrow_scopes(requested, permitted)


def _audiences(claims: dict[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    values = aud if isinstance(aud, list) else [aud]
    return tuple(v for v in values if isinstance(v, str))


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


def _names_client(may_act: dict[str, Any], client: ClientInfo) -> bool:
    """Without an actor token the requesting client is the one acting: ``may_act`` must name
    it (its ``client_id``, or the ``sub`` of its own tokens) and, if it names an issuer, us."""
    if may_act.get("sub") not in (client.client_id, f"{client.client_id}{CLIENT_SUFFIX}"):
        return False
    return "iss" not in may_act or may_act["iss"] in endpoints.issuer_aliases()
