"""``POST /oauth/par`` (RFC 9126 §2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from .. import device, dpop, par
from ..client_auth import authenticate_client
from ..conf import oauth_settings
from ..errors import InvalidRequest, UnauthorizedClient, UnsupportedResponseType
from ..grants.base import BaseGrant
from ..lookups import ClientInfo
from ..request import parse_token_request
from .base import OAuthAPIView, json_response
from .discovery import extend_metadata

_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def validate_authorization_request(client: ClientInfo, params: Mapping[str, str]) -> None:
    """RFC 6749 §4.1.1, RFC 7636 §4.3: what /authorize would refuse is refused now, with the
    error a client can act on (RFC 9126 §2.3)."""
    if "request" in params:
        raise InvalidRequest("Request objects are not supported.")
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest("Missing required parameter: response_type.")
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported.")
    if not client.allows_grant("authorization_code"):
        raise UnauthorizedClient("The client may not use the authorization code flow.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None and len(client.redirect_uris) != 1:
        raise InvalidRequest("Missing required parameter: redirect_uri.")
    if redirect_uri is not None and redirect_uri not in client.redirect_uris:
        raise InvalidRequest("The redirect_uri is not registered for this client.")
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge is None:
        if client.is_public:
            raise InvalidRequest("Public clients must send a PKCE code_challenge.")
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge.")
    elif (method or "plain") != "S256":
        raise InvalidRequest("code_challenge_method must be S256.")
    elif not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge is malformed.")
    api = BaseGrant.resolve_api(params.get("audience"), required=False)
    device.user_scopes(params.get("scope"), client, api)


class PushedAuthorizationView(OAuthAPIView):
    """The client authenticates as at the token endpoint (RFC 9126 §2); the answer is 201
    with ``request_uri`` and ``expires_in``, or an RFC 6749 §5.2 JSON error."""

    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse:
        params = parse_token_request(request._request)
        client = authenticate_client(params).client
        pushed_params = dict(params.params)
        jkt = dpop.for_pushed_request(request._request, client, pushed_params.get("dpop_jkt"))
        if jkt is not None:
            pushed_params["dpop_jkt"] = jkt
        pushed = par.push(client, pushed_params, validate_authorization_request)
        return json_response(pushed.as_body(), status=201)


@extend_metadata
def _par_metadata(data: dict[str, Any]) -> None:
    """RFC 9126 §5: whether every authorization request must be pushed."""
    if "pushed_authorization_request_endpoint" in data:
        data["require_pushed_authorization_requests"] = bool(
            oauth_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS
        )
