"""``POST /oauth/register`` (RFC 7591) and ``GET/PUT/DELETE /oauth/register/<client_id>``
(RFC 7592).

Governed by ``REGISTRATION``: ``"closed"`` answers every request with ``access_denied``;
``"token"`` requires a one-time initial access token (``oauth_client initial-access-token``);
``"open"`` lets anyone register. Every registration request counts against its source IP's
fixed-window budget (``REGISTRATION_MAX_PER_IP`` per ``REGISTRATION_WINDOW``), refused or not,
so a flood is cut off with 429 ``too_many_attempts`` before it reaches the database.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpResponse
from rest_framework.request import Request

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, throttle
from oauth_token.errors import AccessDenied, InvalidRequest, InvalidToken, rfc6749_text
from oauth_token.registry import registration
from oauth_token.token_endpoint.request import JSON, media_type, read_body
from oauth_token.views.base import OAuthAPIView, json_response

_THROTTLE = "registration"


class RegistrationClosed(AccessDenied):
    """403: this server does not let clients register themselves (REGISTRATION = "closed")."""

    status_code = 403
    default_description = "Dynamic client registration is not enabled on this server."


def mode() -> str:
    return str(oauth_settings.REGISTRATION)


def read_json(request: Request) -> Any:
    """RFC 7591 §3.1: the metadata is a JSON object in the body."""
    http = request._request
    if media_type(http) != JSON:
        raise InvalidRequest("Content-Type must be application/json.")
    try:
        document = json.loads(read_body(http).decode("utf-8"))
        # JSON escapes can smuggle what no database stores (lone surrogates, NUL).
        text = json.dumps(document, ensure_ascii=False)
        text.encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise InvalidRequest("The request body is not valid JSON.") from exc
    if "\\u0000" in text:
        raise InvalidRequest("The request body contains a NUL character.")
    return document


def registration_client_uri(client_id: str) -> str:
    """RFC 7592 §3: absolute, derived from the issuer (never from the Host header)."""
    return f"{endpoints.url('register')}/{quote(client_id, safe='')}"


def count_attempt(request: Request) -> None:
    """One attempt against the source IP's budget (core/throttle.py: count first, then
    decide), refused with 429 ``too_many_attempts`` and ``Retry-After`` over the limit."""
    ip = str(oauth_settings.CLIENT_IP_FUNCTION(request._request))
    counter = throttle.Counter(
        _THROTTLE,
        "ip",
        ip,
        int(oauth_settings.REGISTRATION_MAX_PER_IP),
        int(oauth_settings.REGISTRATION_WINDOW),
    )
    throttle.attempt([counter], lambda _counter: "Too many registration requests; try later.")


def bearer_challenge(error: InvalidToken) -> dict[str, str]:
    return {
        "WWW-Authenticate": (
            f'Bearer error="invalid_token", error_description="{rfc6749_text(error.description)}"'
        )
    }


class RegistrationView(OAuthAPIView):
    """RFC 7591 §3: 201 with the client's metadata, ``client_id``, a ``client_secret`` when
    its auth method needs one, and ``registration_access_token`` + ``registration_client_uri``
    for RFC 7592; errors ``invalid_client_metadata`` / ``invalid_redirect_uri`` (§3.2.2)."""

    http_method_names = ["post", "options"]

    def post(self, request: Request) -> HttpResponse:
        if mode() not in ("token", "open"):
            raise RegistrationClosed()
        count_attempt(request)
        body = read_json(request)
        try:
            with transaction.atomic():
                initial = None
                if mode() == "token":
                    initial = registration.consume_initial_access_token(
                        request.META.get("HTTP_AUTHORIZATION")
                    )
                registered = registration.register(
                    registration.parse_metadata(body), request._request
                )
                if initial is not None:
                    registration.link_initial_access_token(initial, registered.client)
        except InvalidToken as error:
            error.extra_headers.update(bearer_challenge(error))
            raise
        document = registration.response_body(
            registered, registration_client_uri(registered.client.client_id)
        )
        return json_response(document, status=201)


class RegistrationManagementView(OAuthAPIView):
    """RFC 7592 §2: read, replace or delete a registration with its registration access
    token. A wrong token and an unknown client_id are both 401 ``invalid_token``."""

    http_method_names = ["get", "put", "delete", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if mode() not in ("token", "open"):
            raise RegistrationClosed()

    def _registration(self, request: Request, client_id: str) -> Any:
        try:
            return registration.authenticate(client_id, request.META.get("HTTP_AUTHORIZATION"))
        except InvalidToken as error:
            error.extra_headers.update(bearer_challenge(error))
            raise

    def get(self, request: Request, client_id: str) -> HttpResponse:
        row = self._registration(request, client_id)
        registered = registration.Registered(row.client, row)
        return json_response(
            registration.response_body(registered, registration_client_uri(client_id))
        )

    def put(self, request: Request, client_id: str) -> HttpResponse:
        row = self._registration(request, client_id)
        count_attempt(request)
        registered = registration.update(row, read_json(request))
        return json_response(
            registration.response_body(registered, registration_client_uri(client_id))
        )

    def delete(self, request: Request, client_id: str) -> HttpResponse:
        registration.delete(self._registration(request, client_id))
        response = HttpResponse(status=204)
        response["Cache-Control"] = "no-store"
        return response
