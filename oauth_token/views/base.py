"""Where OAuthErrors (and failures of the services behind us) become JSON responses.

Every endpoint a client calls answers errors as RFC 6749 §5.2 JSON: never an HTML page, never
a 500 for anything a client sent. A database or cache outage is a 503 the client can retry.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import APIView

from ..conf import oauth_settings
from ..errors import (
    ConfigurationError,
    InvalidRequest,
    OAuthError,
    ServerError,
    TemporarilyUnavailable,
)

logger = logging.getLogger("oauth_token")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in {**NO_STORE, **(headers or {})}.items():
        response[name] = value
    return response


def error_response(error: OAuthError) -> JsonResponse:
    return json_response(error.as_body(), status=error.status_code, headers=error.headers)


def to_oauth_error(exc: Exception) -> OAuthError | None:
    """Map what may go wrong below a view to the error a client should see, or None."""
    if isinstance(exc, OAuthError):
        return exc
    if isinstance(exc, OperationalError | InterfaceError) or _is_cache_outage(exc):
        logger.error("oauth_token backing service unavailable: %s", type(exc).__name__)
        return TemporarilyUnavailable(headers={"Retry-After": str(oauth_settings.RETRY_AFTER)})
    if isinstance(exc, ConfigurationError):
        logger.error("oauth_token misconfigured: %s", exc)
        return ServerError("The authorization server is misconfigured.")
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return _with_status(InvalidRequest(str(exc.detail)), 405)
    if isinstance(exc, drf_exceptions.APIException):
        return _with_status(InvalidRequest(str(exc.detail)), exc.status_code)
    return None


def _is_cache_outage(exc: Exception) -> bool:
    return type(exc).__module__.split(".", 1)[0] == "redis" and "Connection" in type(exc).__name__


def _with_status(error: OAuthError, status: int) -> OAuthError:
    error.status_code = status
    return error


class OAuthAPIView(APIView):
    """A DRF view with no DRF authentication (clients authenticate per RFC 6749, not by
    session) and OAuth JSON errors."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []
    parser_classes: list[Any] = []

    def handle_exception(self, exc: Exception) -> HttpResponse:  # type: ignore[override]
        error = to_oauth_error(exc)
        if error is None:
            raise exc
        for action in error.after_rollback:
            action()
        response = error_response(error)
        if isinstance(exc, drf_exceptions.MethodNotAllowed):
            response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        return (None, "application/json")

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        response = HttpResponse(status=204)
        response["Allow"] = ", ".join(self.allowed_methods)
        return response
