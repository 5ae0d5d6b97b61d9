from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from rest_framework.request import Request

from oauth_token.errors import UnauthorizedClient
from oauth_token.token_endpoint.client_auth import authenticate_client
from oauth_token.token_endpoint.request import parse_token_request
from oauth_token.tokens import inspection
from oauth_token.views.base import NO_STORE, OAuthAPIView


class RevokeView(OAuthAPIView):
    """``POST /oauth/revoke`` (RFC 7009 §2): the client authenticates as at the token endpoint
    (public clients identify themselves), names a ``token`` and optionally a
    ``token_type_hint``. A refresh token revokes its whole family; an access token is
    denylisted until it expires. Unknown, expired or already revoked tokens get the same empty
    200 (§2.2); a token issued to another client is refused and stays valid (§2.1)."""

    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse:
        params = parse_token_request(request._request)
        client = authenticate_client(params).client
        token = params.require("token")
        found = inspection.find(token, params.get("token_type_hint"))
        if found is not None:
            if found.client_id != client.client_id:
                raise UnauthorizedClient("The token was not issued to this client.")
            with transaction.atomic():
                inspection.kind_of(found).revoke(found)
        response = HttpResponse(status=200)
        for name, value in NO_STORE.items():
            response[name] = value
        return response
