"""``POST /oauth/par`` (RFC 9126 §2)."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpResponse
from rest_framework.request import Request

from oauth_token.authorize import par, validation
from oauth_token.errors import InvalidRequest, UnauthorizedClient
from oauth_token.registry.snapshots import ClientInfo
from oauth_token.token_endpoint import dpop
from oauth_token.token_endpoint.client_auth import authenticate_client
from oauth_token.token_endpoint.request import parse_token_request
from oauth_token.views.base import OAuthAPIView, json_response


def validate_pushed_request(client: ClientInfo, params: Mapping[str, str]) -> None:
    """RFC 9126 §2.1: the checks /authorize makes, now, so the client learns of a mistake
    from a JSON error (§2.3) before any person is involved. Here the redirect_uri problems that
    /authorize can only show on an error page are ordinary ``invalid_request`` answers."""
    if not client.allows_grant("authorization_code"):
        raise UnauthorizedClient("The client may not use the authorization code flow.")
    try:
        target = validation.resolve_target(params, [])
    except validation.UnsafeRedirect as exc:
        raise InvalidRequest(exc.description) from exc
    validation.validate(params, [], target, pushing=True)


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
        pushed = par.push(client, pushed_params, validate_pushed_request)
        return json_response(pushed.as_body(), status=201)
