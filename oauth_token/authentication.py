"""DRF authentication for resource servers (RFC 6750, RFC 9068, RFC 9449 §7); the scope
permissions are in :mod:`oauth_token.permissions`.

``AccessTokenAuthentication`` validates this server's JWT access tokens locally: the signing
key comes from the cached key set (``keyring.verification_key``), so a request costs no
database round-trip for validation. ``request.auth`` is the verified claims
(:class:`AccessTokenClaims`); ``request.user`` is the Django user for user tokens and a
:class:`ClientPrincipal` for ``client_credentials`` tokens.

Errors follow RFC 6750 §3: 401 ``invalid_token`` and 403 ``insufficient_scope`` with a
``WWW-Authenticate`` challenge and a JSON body ``{"error", "error_description"}``; a request
that sent no token gets the bare challenge and an empty JSON object (§3.1: no error
information), never DRF's ``{"detail": ...}``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from oauth_token._deprecated import moved
from oauth_token.conf import oauth_settings
from oauth_token.core import resource_metadata
from oauth_token.errors import InvalidToken, OAuthError, TemporarilyUnavailable
from oauth_token.token_endpoint.dpop import verify_resource_request
from oauth_token.tokens import revocation
from oauth_token.tokens.access_tokens import (
    AccessTokenClaims,
    ClientPrincipal,
    user_for_claims,
    verify_access_token,
)

logger = logging.getLogger("oauth_token")

_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
_CHALLENGE_ATTR = "_oauth_token_challenge"


# --- challenges (RFC 6750 §3, RFC 9449 §7.1) ---------------------------------------------


def _quoted(value: str) -> str:
    """RFC 6750 §3: error_description and scope are quoted-strings without ``"`` or ``\\``."""
    return '"' + "".join(c for c in value if c.isprintable() and c not in '"\\') + '"'


def challenge(
    scheme: str,
    error: OAuthError | None = None,
    scope: str | None = None,
    metadata_url: str | None = None,
) -> str:
    """One ``WWW-Authenticate`` challenge. The DPoP scheme also names the proof algorithms
    this server accepts (RFC 9449 §7.1); ``metadata_url`` (``resource_metadata``) points at
    the resource's RFC 9728 metadata (§5.1), where it publishes any."""
    params = [f"realm={_quoted(str(oauth_settings.RESOURCE_SERVER_REALM))}"]
    if metadata_url:
        params.append(f"resource_metadata={_quoted(metadata_url)}")
    if error is not None:
        params.append(f"error={_quoted(error.error)}")
        params.append(f"error_description={_quoted(error.description)}")
    if scope:
        params.append(f"scope={_quoted(scope)}")
    if scheme == "DPoP":
        params.append(f"algs={_quoted(' '.join(oauth_settings.DPOP_SIGNING_ALGORITHMS))}")
    return f"{scheme} " + ", ".join(params)


def default_challenge(metadata_url: str | None = None) -> str:
    """No credentials at all: both schemes, without an error code (RFC 6750 §3.1)."""
    return ", ".join(challenge(s, metadata_url=metadata_url) for s in ("Bearer", "DPoP"))


def published_metadata(request: Request) -> str | None:
    """RFC 9728 §5.1: the metadata URL of the first audience the view serves whose metadata
    this project publishes (a ``ProtectedResourceMetadataView`` mounted at the URL derived
    from it), or the view's explicit ``resource_metadata_url``."""
    explicit = _view_attr(request, "resource_metadata_url")
    if explicit:
        return str(explicit)
    try:
        audiences = accepted_audiences(request)
    except ImproperlyConfigured:
        return None
    for audience in audiences:
        url = resource_metadata.published_metadata_url(audience)
        if url:
            return url
    return None


class TokenAuthenticationFailed(exceptions.AuthenticationFailed):
    """401 ``invalid_token`` (or 400 ``invalid_request`` / ``invalid_dpop_proof``), carrying
    the RFC 6750 JSON body; the challenge is set by ``authenticate_header``."""

    def __init__(self, error: OAuthError, scheme: str):
        super().__init__(detail={"error": error.error, "error_description": error.description})
        self.status_code = 401 if error.status_code in (400, 401) else error.status_code
        self.oauth_error = error
        self.scheme = scheme
        if isinstance(error, TemporarilyUnavailable):
            # DRF's exception handler turns ``wait`` into Retry-After.
            self.wait = int(oauth_settings.RETRY_AFTER)


class TokenRequired(exceptions.NotAuthenticated):
    """401 for a request that sent no access token. RFC 6750 §3.1: when a request "lacks any
    authentication information", the challenge carries no error code and the answer no other
    error information, so the body is ``{}``; the challenge comes from ``authenticate_header``."""

    def __init__(self) -> None:
        super().__init__(detail={})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER`` for views whose permission classes are not this package's
    (``IsAuthenticated``, ...): DRF's own "no credentials" 401 becomes :class:`TokenRequired`
    when the view authenticates with :class:`AccessTokenAuthentication`. ``RequiredScopes`` and
    ``HasScope`` raise it themselves, so they need no setting."""
    view = context.get("view")
    if type(exc) is exceptions.NotAuthenticated and any(
        isinstance(a, AccessTokenAuthentication)
        for a in getattr(getattr(view, "request", None), "authenticators", ())
    ):
        replacement = TokenRequired()
        replacement.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]
        exc = replacement
    return drf_exception_handler(exc, context)


# --- authentication ------------------------------------------------------------------------


def _view_attr(request: Request, name: str) -> Any:
    view = (getattr(request, "parser_context", None) or {}).get("view")
    return getattr(view, name, None)


def accepted_audiences(request: Request) -> list[str]:
    """The view's ``token_audience`` (a string, a list, or a callable returning either),
    else ``OAUTH_TOKEN['RESOURCE_SERVER_AUDIENCE']``: RFC 9068 §4 requires the resource
    server to check that ``aud`` names it."""
    audience = _view_attr(request, "token_audience")
    if audience is None:
        audience = oauth_settings.RESOURCE_SERVER_AUDIENCE
    if callable(audience):
        audience = audience()
    if isinstance(audience, str):
        audience = [audience]
    if not audience:
        raise ImproperlyConfigured(
            "AccessTokenAuthentication needs an audience: set `token_audience` on the view or "
            "OAUTH_TOKEN['RESOURCE_SERVER_AUDIENCE']."
        )
    return [str(a) for a in audience]


def parse_authorization(header: str) -> tuple[str, str] | None:
    """(scheme, token) for ``Bearer``/``DPoP`` credentials (RFC 6750 §2.1, RFC 9449 §7.1);
    None for other schemes, so another authentication class may handle them."""
    scheme, _, token = header.strip().partition(" ")
    normalized = {"bearer": "Bearer", "dpop": "DPoP"}.get(scheme.lower())
    if normalized is None:
        return None
    token = token.strip()
    if not token or not _TOKEN68.fullmatch(token):
        raise TokenAuthenticationFailed(
            InvalidToken("The Authorization header is malformed."), normalized
        )
    return normalized, token


class AccessTokenAuthentication(BaseAuthentication):
    """Validates this server's access tokens: ``Authorization: Bearer`` for unbound tokens and
    ``Authorization: DPoP`` plus a ``DPoP`` proof for sender-constrained ones (RFC 9449 §7).

    A view names the audience it serves with ``token_audience`` (or the
    ``RESOURCE_SERVER_AUDIENCE`` setting applies). When ``RESOURCE_SERVER_CHECK_REVOCATION``
    is on, tokens on the denylist are refused (one cache read per request).
    """

    def authenticate(self, request: Request) -> tuple[Any, AccessTokenClaims] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme = "Bearer"
        try:
            parsed = parse_authorization(header)
            if parsed is None:
                return None
            scheme, token = parsed
            claims = AccessTokenClaims(
                verify_access_token(token, accepted_audiences(request)), token, scheme
            )
            self.check_binding(request, claims)
            if oauth_settings.RESOURCE_SERVER_CHECK_REVOCATION and revocation.is_token_revoked(
                claims
            ):
                raise InvalidToken("The access token has been revoked.")
            user = user_for_claims(claims)
        except TokenAuthenticationFailed as failed:
            self._remember(request, failed)
            raise
        except (OperationalError, InterfaceError) as exc:
            # The user lookup or the denylist's database fallback: retryable, never a 500.
            logger.error(
                "oauth_token resource server: database unavailable (%s)", type(exc).__name__
            )
            wrapped = TokenAuthenticationFailed(TemporarilyUnavailable(), scheme)
            self._remember(request, wrapped)
            raise wrapped from exc
        except OAuthError as error:
            wrapped = TokenAuthenticationFailed(error, scheme)
            self._remember(request, wrapped)
            raise wrapped from error
        return user, claims

    def check_binding(self, request: Request, claims: AccessTokenClaims) -> None:
        """RFC 9449 §7.1: a DPoP-bound token is only usable with the DPoP scheme and a proof
        from the key it is bound to; an unbound token only as Bearer."""
        if claims.scheme == "Bearer":
            if claims.jkt is not None:
                raise InvalidToken("This token is DPoP-bound; use the DPoP scheme with a proof.")
            return
        verify_resource_request(request, claims)

    def _remember(self, request: Request, failure: TokenAuthenticationFailed) -> None:
        setattr(request._request, _CHALLENGE_ATTR, failure)

    def authenticate_header(self, request: Request) -> str:
        failure = getattr(request._request, _CHALLENGE_ATTR, None)
        metadata = published_metadata(request)
        if isinstance(failure, TokenAuthenticationFailed):
            return challenge(failure.scheme, failure.oauth_error, metadata_url=metadata)
        return default_challenge(metadata)


__all__ = [
    "AccessTokenAuthentication",
    "AccessTokenClaims",
    "ClientPrincipal",
    "TokenRequired",
    "challenge",
    "default_challenge",
    "exception_handler",
]

_MOVED_TO_PERMISSIONS = frozenset({"RequiredScopes", "HasScope", "InsufficientScopeDenied"})


def __getattr__(name: str) -> Any:
    """The permission classes moved to :mod:`oauth_token.permissions`; settings and imports
    naming them here keep working, with a DeprecationWarning."""
    if name in _MOVED_TO_PERMISSIONS:
        return moved(f"oauth_token.authentication.{name}", f"oauth_token.permissions.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
