from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from .. import inspection
from ..client_auth import authenticate_client
from ..errors import InvalidClient, OAuthError
from ..request import parse_token_request
from . import discovery
from .base import OAuthAPIView, json_response


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


@discovery.extend_metadata
def _metadata(data: dict[str, object]) -> None:
    if "introspection_endpoint" in data:
        data["introspection_endpoint_auth_methods_supported"] = [
            m for m in discovery.AUTH_METHODS if m != "none"
        ]
