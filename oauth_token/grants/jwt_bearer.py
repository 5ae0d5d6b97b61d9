from __future__ import annotations

from oauth_token.core import jose
from oauth_token.errors import AccessDenied, InvalidGrant
from oauth_token.grants.base import BaseGrant
from oauth_token.registry import trusted_issuers
from oauth_token.registry.snapshots import get_granted_scopes
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
    ``jti`` never seen before (item 7); the same verifier (``trusted_issuers.verify_external``)
    checks these tokens when they arrive through token exchange. Every failure is
    ``invalid_grant`` (§3.1)."""

    grant_type = GRANT_TYPE

    def validate(self, context: TokenContext) -> GrantResult:
        request, client = context.request, context.client
        try:
            verified = trusted_issuers.verify_external(request.require("assertion"), client)
        except jose.JoseError as exc:
            raise InvalidGrant(f"The assertion is invalid: {exc}") from exc
        api = self.resolve_api(self.target(request))
        assert api is not None
        allowed = get_granted_scopes(client.client_id, api.identifier)
        if allowed is None:
            raise AccessDenied(f"Client is not authorized to access {api.identifier[:200]!r}.")
        scopes = self.narrow_scopes(request.scopes(), allowed)
        user = trusted_issuers.resolve_user(verified.trusted, verified.subject, verified.claims)
        if user is None:
            raise InvalidGrant("The assertion's subject is not a known, active user.")
        if not trusted_issuers.consume(verified):
            raise InvalidGrant("The assertion has already been used.")
        return GrantResult(subject=subject(user), api=api, scopes=scopes, user=user)
