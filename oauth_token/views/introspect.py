from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from oauth_token.errors import InvalidClient, OAuthError
from oauth_token.token_endpoint.client_auth import authenticate_client
from oauth_token.token_endpoint.request import parse_token_request
from oauth_token.tokens import inspection
from oauth_token.views.base import OAuthAPIView, json_response


class NotAllowedToIntrospect(OAuthError):
    error = "unauthorized_client"
    status_code = 403
    default_description = "This client may not introspect tokens."


class IntrospectView(OAuthAPIView):
    """``POST /oauth/introspect`` (RFC 7662 §2): for resource servers, i.e. confidential
    clients whose ``can_introspect`` flag is set. Answers ``{"active": true, ...}`` with the
    token's members (§2.2) or just ``{"active": false}`` for anything invalid, expired,
    revoked or not issued by this server, without saying which (§2.2, §4)."""

    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse:
        params = parse_token_request(request._request)
        client = authenticate_client(params).client
        if client.is_public or client.auth_method == "none":
            raise InvalidClient("Client authentication is required.")
        if not client.can_introspect:
            raise NotAllowedToIntrospect()
        token = params.require("token")
        found = inspection.find(token, params.get("token_type_hint"))
        body: dict[str, Any] = {"active": False}
        if found is not None and found.active:
            body = {"active": True, **found.members}
        return json_response(body)
