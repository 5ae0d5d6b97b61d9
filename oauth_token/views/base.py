"""Where OAuthErrors (and failures of the services behind us) become JSON responses.

Every endpoint a client calls answers errors as RFC 6749 §5.2 JSON: never an HTML page, never
a 500 for anything a client sent. A database or cache outage is a 503 the client can retry.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth_token.conf import oauth_settings
from oauth_token.core import cache, metrics, throttle
from oauth_token.errors import (
    ConfigurationError,
    InvalidRequest,
    OAuthError,
    ServerError,
    TemporarilyUnavailable,
)

logger = logging.getLogger("oauth_token")

# Where a view leaves, on the Django request, what the metrics label a request with.
GRANT_TYPE_KEY, ERROR_KEY = "oauth_token.grant_type", "oauth_token.error"

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_JSON_HEADERS = {"Content-Type": "application/json", **NO_STORE}
# JsonResponse's encoder, built once (encoding is stateless); same output, same escaping.
_encode = DjangoJSONEncoder().encode


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    """What ``JsonResponse(body)`` plus the no-store headers gave (same bytes, same headers in
    the same order), built in one step: every token response goes through here."""
    return HttpResponse(
        _encode(body),
        status=status,
        headers={**_JSON_HEADERS, **headers} if headers else _JSON_HEADERS,
    )


def error_response(error: OAuthError) -> HttpResponse:
    response = json_response(error.as_body(), status=error.status_code, headers=error.headers)
    if isinstance(error, TemporarilyUnavailable):
        # Logged once, with its cause, where it was raised: keep Django's generic
        # "Service Unavailable: /oauth/token" line from doubling every outage line.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def to_oauth_error(exc: Exception) -> OAuthError | None:
    """Map what may go wrong below a view to the error a client should see, or None.

    An unreachable database or cache becomes 503 ``temporarily_unavailable`` with
    ``Retry-After`` (RFC 6749 §4.1.2.1 defines the code; RFC 9110 §10.2.3 the header), logged
    as one line naming the exception class only (its message may quote SQL or parameters).
    """
    if isinstance(exc, TemporarilyUnavailable):
        exc.extra_headers.setdefault("Retry-After", str(oauth_settings.RETRY_AFTER))
        return exc
    if isinstance(exc, OAuthError):
        return exc
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("oauth_token database unavailable: %s", type(exc).__name__)
        return TemporarilyUnavailable(headers={"Retry-After": str(oauth_settings.RETRY_AFTER)})
    if _is_cache_outage(exc):
        logger.error("oauth_token cache unavailable: %s", type(exc).__name__)
        return TemporarilyUnavailable(headers={"Retry-After": str(oauth_settings.RETRY_AFTER)})
    if isinstance(exc, ConfigurationError):
        logger.error("oauth_token misconfigured: %s", exc)
        return ServerError("The authorization server is misconfigured.")
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return _with_status(InvalidRequest(str(exc.detail)), 405)
    if isinstance(exc, drf_exceptions.APIException):
        return _with_status(InvalidRequest(str(exc.detail)), exc.status_code)
    return None


def serving(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a function view: throttles below it count by its request's source address
    (``core/throttle.serving``), as they do below every ``OAuthAPIView``."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with throttle.serving(request):
            return view(request, *args, **kwargs)

    return wrapped


def _cache_outage_types() -> tuple[type[BaseException], ...]:
    """Exceptions meaning "the cache server did not answer": redis-py's connection, timeout
    and loading errors (and read-only replicas after a failover), socket errors of other
    backends."""
    types: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        from redis import exceptions as redis_exceptions
    except ImportError:  # pragma: no cover - redis is an optional dependency
        return tuple(types)
    types += [
        redis_exceptions.ConnectionError,
        redis_exceptions.TimeoutError,
        redis_exceptions.BusyLoadingError,
        redis_exceptions.ReadOnlyError,
        redis_exceptions.ClusterDownError,
        redis_exceptions.TryAgainError,
    ]
    return tuple(types)


def _is_cache_outage(exc: Exception) -> bool:
    return isinstance(exc, _cache_outage_types())


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

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """The change generation is checked once per request, not once per lookup (with a
        process-local cache that check is a database read, ``core/cache.py``); the request is
        timed for the metrics when they are on."""
        with cache.request_scope(), throttle.serving(request):
            if not metrics.enabled():
                return super().dispatch(request, *args, **kwargs)
            started = time.perf_counter()
            response = super().dispatch(request, *args, **kwargs)
            metrics.observe(
                endpoint=self.metrics_endpoint(),
                grant_type=str(request.META.get(GRANT_TYPE_KEY, "")),
                error=str(request.META.get(ERROR_KEY, "")),
                seconds=time.perf_counter() - started,
            )
            return response

    def metrics_endpoint(self) -> str:
        return type(self).__name__.removesuffix("View").lower()

    def handle_exception(self, exc: Exception) -> HttpResponse:  # type: ignore[override]
        error = to_oauth_error(exc)
        if error is None:
            # A bug of ours must still answer in JSON (RFC 6749 §5.2 clients parse only that);
            # the traceback goes to the log, never to the client.
            logger.exception("oauth_token: unexpected error in %s", type(self).__name__)
            error = ServerError()
        for action in error.after_rollback:
            action()
        self.request._request.META[ERROR_KEY] = error.error
        response = error_response(error)
        if isinstance(exc, drf_exceptions.MethodNotAllowed):
            response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        return (None, "application/json")

    def perform_authentication(self, request: Any) -> None:
        """DRF authenticates eagerly, and with no authentication classes that only builds an
        AnonymousUser nobody reads (clients authenticate per RFC 6749, in the view). A view
        with authentication classes keeps DRF's behaviour; ``request.user`` stays lazy."""
        if self.authentication_classes:
            super().perform_authentication(request)

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        """DRF's headers (``Vary: Accept``, then ``Allow``), set as DRF sets them on a plain
        response without a ``Vary`` of its own; anything else goes through DRF's own
        (``patch_vary_headers`` merging Vary values, a DRF ``Response``'s renderer)."""
        if isinstance(response, Response) or response.has_header("Vary"):
            return super().finalize_response(request, response, *args, **kwargs)
        headers = dict(self.headers)
        vary = headers.pop("Vary", None)
        if vary is not None:
            response.headers["Vary"] = vary
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        response = HttpResponse(status=204)
        response["Allow"] = ", ".join(self.allowed_methods)
        return response
