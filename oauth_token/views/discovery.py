"""Provider metadata (OIDC Discovery 1.0, RFC 8414) and the JWKS (RFC 7517).

Metadata is built from the registries, so it never claims a grant, auth method or endpoint
that does not exist in this deployment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .. import endpoints, keyring
from ..conf import oauth_settings
from ..errors import ConfigurationError
from ..grants import registry

logger = logging.getLogger("oauth_token")

AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
]

# Endpoint metadata name → route name; listed only when the route exists.
OPTIONAL_ENDPOINTS = {
    "authorization_endpoint": "authorize",
    "userinfo_endpoint": "userinfo",
    "revocation_endpoint": "revoke",
    "introspection_endpoint": "introspect",
    "pushed_authorization_request_endpoint": "par",
    "device_authorization_endpoint": "device_code",
}


def metadata() -> dict[str, Any]:
    assertion_algs = list(oauth_settings.CLIENT_ASSERTION_ALGORITHMS)
    data: dict[str, Any] = {
        "issuer": endpoints.issuer(),
        "token_endpoint": endpoints.token_endpoint(),
        "jwks_uri": endpoints.url("jwks"),
        "grant_types_supported": [g for g, s in registry().items() if s.advertised],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "id_token_signing_alg_values_supported": [oauth_settings.ID_TOKEN_SIGNING_ALGORITHM],
        "scopes_supported": [],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
    }
    for name, route in OPTIONAL_ENDPOINTS.items():
        url = endpoints.url_or_none(route)
        if url:
            data[name] = url
    for extend in _extensions:
        extend(data)
    return data


_extensions: list[Any] = []


def extend_metadata(fn: Any) -> Any:
    """Features (authorize, DPoP, PAR, …) add their metadata through this hook."""
    if fn not in _extensions:
        _extensions.append(fn)
    return fn


def read_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """GET and HEAD only; anything else is a JSON 405 (RFC 9110 §15.5.6), never an HTML page."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse(
                {"error": "invalid_request", "error_description": "Method not allowed."},
                status=405,
            )
            response["Allow"] = "GET, HEAD"
            return response
        try:
            return view(request)
        except ConfigurationError as exc:
            # An operator's mistake (``manage.py check`` names it): logged, and JSON for clients.
            logger.error("oauth_token misconfigured: %s", exc)
            return JsonResponse(
                {"error": "server_error", "error_description": "The server is misconfigured."},
                status=500,
            )

    return wrapper


@read_only
def configuration(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(metadata())
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@read_only
def jwks(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(keyring.key_set().jwks())
    response["Cache-Control"] = f"public, max-age={int(oauth_settings.JWKS_CACHE_SECONDS)}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Type"] = "application/jwk-set+json"
    return response
