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

from oauth_token.authorize import pkce
from oauth_token.authorize.validation import RESPONSE_MODES
from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints
from oauth_token.errors import ConfigurationError
from oauth_token.grants import registry
from oauth_token.registry import keyring
from oauth_token.registry.policies import OIDC_SCOPES
from oauth_token.token_endpoint import client_auth

logger = logging.getLogger("oauth_token")


# Endpoint metadata name → route name; listed only when the route exists.
OPTIONAL_ENDPOINTS = {
    "authorization_endpoint": "authorize",
    "userinfo_endpoint": "userinfo",
    "revocation_endpoint": "revoke",
    "introspection_endpoint": "introspect",
    "pushed_authorization_request_endpoint": "par",
    "device_authorization_endpoint": "device_code",
    "end_session_endpoint": "end_session",
}


JWT_AUTH_METHODS = frozenset({"client_secret_jwt", "private_key_jwt"})


def metadata() -> dict[str, Any]:
    """Every member comes from the registries and settings that decide the behaviour: the
    grant registry, the client-authentication methods, the routes that are mounted."""
    assertion_algs = list(oauth_settings.CLIENT_ASSERTION_ALGORITHMS)
    auth_methods = list(client_auth.method_names())
    data: dict[str, Any] = {
        "issuer": endpoints.issuer(),
        "token_endpoint": endpoints.token_endpoint(),
        "jwks_uri": endpoints.url("jwks"),
        "grant_types_supported": [g for g, s in registry().items() if s.advertised],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "id_token_signing_alg_values_supported": [oauth_settings.ID_TOKEN_SIGNING_ALGORITHM],
        "scopes_supported": [],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        # RFC 9449 §5.1.
        "dpop_signing_alg_values_supported": list(oauth_settings.DPOP_SIGNING_ALGORITHMS),
    }
    for name, route in OPTIONAL_ENDPOINTS.items():
        url = endpoints.url_or_none(route)
        if url:
            data[name] = url
    if "authorization_endpoint" in data:
        data.update(_authorization_metadata())
    if "pushed_authorization_request_endpoint" in data:
        # RFC 9126 §5: whether every authorization request must be pushed.
        data["require_pushed_authorization_requests"] = bool(
            oauth_settings.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS
        )
    if "end_session_endpoint" in data:
        # OIDC Back-Channel Logout 1.0 §2.1; front-channel logout is not offered.
        data["backchannel_logout_supported"] = True
        data["backchannel_logout_session_supported"] = True
        data["frontchannel_logout_supported"] = False
    if oauth_settings.CLIENT_ID_METADATA_DOCUMENTS:
        # draft-ietf-oauth-client-id-metadata-document §6: an https client_id is fetched.
        data["client_id_metadata_document_supported"] = True
    register = endpoints.url_or_none("register")
    if register and oauth_settings.REGISTRATION in ("token", "open"):
        # RFC 8414 §2 / RFC 7591 §3: advertised only when registration is possible.
        data["registration_endpoint"] = register
    for endpoint, methods in (
        ("revocation", auth_methods),
        ("introspection", [m for m in auth_methods if m != "none"]),
    ):
        if f"{endpoint}_endpoint" not in data:
            continue
        data[f"{endpoint}_endpoint_auth_methods_supported"] = methods
        # RFC 8414 §2: required when a listed method signs a JWT (the same client_auth
        # authenticates clients at every endpoint, so the same algorithms apply).
        if set(methods) & JWT_AUTH_METHODS:
            data[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] = assertion_algs
    return data


def _authorization_metadata() -> dict[str, Any]:
    """OIDC Discovery §3, RFC 8414 §2, RFC 9207 §3."""
    return {
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "scopes_supported": list(OIDC_SCOPES),
        "claims_supported": list(oauth_settings.CLAIMS_SUPPORTED),
        "code_challenge_methods_supported": pkce.supported_methods(),
        "authorization_response_iss_parameter_supported": True,
        # select_account is accepted and handled as login (the person signs in again and may
        # pick another account) but there is no account chooser, so it is not advertised.
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }


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
