from __future__ import annotations

import time
from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.core import jose, replay
from oauth_token.errors import AccessDenied, InvalidGrant
from oauth_token.grants.base import BaseGrant
from oauth_token.registry import trusted_issuers
from oauth_token.registry.snapshots import ClientInfo, get_granted_scopes
from oauth_token.token_endpoint.context import GrantResult, TokenContext
from oauth_token.tokens.claims import subject

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class JwtBearerGrant(BaseGrant):
    """RFC 7523 §2.1: a JWT ``assertion`` from an issuer the client trusts (its entry in
    ``Client.trusted_issuers``) stands for a user, and the client gets an access token for
    that user on an API it holds a client grant for ("scopes as granted", like
    client_credentials).

    The assertion is checked as RFC 7523 §3 lists: ``iss`` a trusted issuer and the signature
    its key (item 1, 9), ``sub`` present and mapped to an active local user by
    ``EXTERNAL_USER_LOOKUP`` (item 2), ``aud`` naming this server or its token endpoint
    (item 3), ``exp`` in the future and not too far (item 4), ``nbf``/``iat`` (items 5, 6) and a
    ``jti`` never seen before (item 7). Every failure is ``invalid_grant`` (§3.1)."""

    grant_type = GRANT_TYPE

    def validate(self, context: TokenContext) -> GrantResult:
        request, client = context.request, context.client
        assertion = request.require("assertion")
        issuer, claims = self._verify(assertion, client)
        api = self.resolve_api(self.target(request))
        assert api is not None
        allowed = get_granted_scopes(client.client_id, api.identifier)
        if allowed is None:
            raise AccessDenied(f"Client is not authorized to access {api.identifier[:200]!r}.")
        scopes = self.narrow_scopes(request.scopes(), allowed)
        user = trusted_issuers.resolve_user(issuer, claims["sub"], claims)
        if user is None:
            raise InvalidGrant("The assertion's subject is not a known, active user.")
        self._consume(issuer, claims)
        return GrantResult(subject=subject(user), api=api, scopes=scopes, user=user)

    @staticmethod
    def _verify(assertion: str, client: ClientInfo) -> tuple[str, dict[str, Any]]:
        try:
            trusted, claims = trusted_issuers.verify(
                assertion, client, require=("exp", "iss", "sub", "aud", "jti")
            )
        except jose.JoseError as exc:
            raise InvalidGrant(f"The assertion is invalid: {exc}") from exc
        now, skew = time.time(), int(oauth_settings.CLOCK_SKEW)
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise InvalidGrant("The assertion's sub must be a non-empty string.")
        if claims["exp"] - now > int(oauth_settings.JWT_BEARER_MAX_LIFETIME) + skew:
            raise InvalidGrant("The assertion expires too far in the future.")
        iat = claims.get("iat")
        if iat is not None and (not isinstance(iat, int | float) or iat > now + skew):
            raise InvalidGrant("The assertion was issued in the future.")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise InvalidGrant("The assertion's jti is invalid.")
        return trusted.issuer, claims

    @staticmethod
    def _consume(issuer: str, claims: dict[str, Any]) -> None:
        """RFC 7523 §3 item 7: a jti is accepted once per issuer, for as long as the assertion
        could be valid. Checked last, so an assertion refused for another reason (a wrong
        scope, say) is not burnt."""
        ttl = int(claims["exp"] - time.time()) + int(oauth_settings.CLOCK_SKEW)
        if not replay.first_use("jwt_bearer", f"{issuer}\x00{claims['jti']}", ttl):
            raise InvalidGrant("The assertion has already been used.")
