from __future__ import annotations

from django.http import HttpResponse
from rest_framework.request import Request

from oauth_token.errors import UnauthorizedClient
from oauth_token.grants import get_grant
from oauth_token.token_endpoint import dpop
from oauth_token.token_endpoint.client_auth import authenticate_client
from oauth_token.token_endpoint.context import TokenContext
from oauth_token.token_endpoint.request import parse_token_request
from oauth_token.views.base import GRANT_TYPE_KEY, OAuthAPIView, json_response


class TokenView(OAuthAPIView):
    """``POST /oauth/token`` (RFC 6749 §3.2): parse → authenticate the client → DPoP →
    the grant validates and issuance signs (``BaseGrant.run``, which decides the transaction)
    → JSON. A consumed code or rotated refresh token never exists without the tokens it
    produced: consuming it and storing what it produced share one transaction."""

    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse:
        token_request = parse_token_request(request._request)
        grant = get_grant(token_request.get("grant_type"))
        request._request.META[GRANT_TYPE_KEY] = grant.grant_type
        authenticated = authenticate_client(token_request)
        client = authenticated.client
        if not client.allows_grant(grant.grant_type):
            raise UnauthorizedClient(f"The client may not use the {grant.grant_type} grant.")
        proof = dpop.for_token_request(request._request, client)
        context = TokenContext(
            token_request, client, authenticated.method, dpop_jkt=proof.jkt if proof else None
        )
        issued = grant.run(context)
        return json_response(issued.as_body(), headers=proof.response_headers if proof else None)
