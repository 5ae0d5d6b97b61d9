from __future__ import annotations

from oauth_token.errors import AccessDenied, UnauthorizedClient
from oauth_token.grants.base import BaseGrant
from oauth_token.registry.snapshots import get_granted_scopes
from oauth_token.token_endpoint.context import GrantResult, TokenContext


class ClientCredentialsGrant(BaseGrant):
    """RFC 6749 §4.4, as Auth0 does it: the client acts for itself (``sub`` is
    ``<client_id>@clients``) on an API it holds a client grant for."""

    grant_type = "client_credentials"
    atomic = False

    def validate(self, context: TokenContext) -> GrantResult:
        request, client = context.request, context.client
        if client.is_public:
            # RFC 6749 §4.4: confidential clients only; a public client proves nothing.
            raise UnauthorizedClient("Public clients may not use the client_credentials grant.")
        api = self.resolve_api(self.target(request))
        assert api is not None
        granted = get_granted_scopes(client.client_id, api.identifier)
        if granted is None:
            raise AccessDenied(f"Client is not authorized to access {api.identifier[:200]!r}.")
        # A scope the API no longer defines is no longer grantable, whatever the grant lists.
        scopes = self.narrow_scopes(request.scopes(), granted.intersection(api.scopes))
        return GrantResult(
            subject=f"{client.client_id}@clients",
            api=api,
            scopes=scopes,
            extra_claims={"gty": "client-credentials"},
        )
