"""DRF authentication and permission classes for resource servers (RFC 6750, RFC 9068,
RFC 9449 §7).

``AccessTokenAuthentication`` validates this server's JWT access tokens locally: the signing
key comes from the cached key set (``keyring.verification_key``), so a request costs no
database round-trip for validation. ``request.auth`` is the verified claims
(:class:`AccessTokenClaims`); ``request.user`` is the Django user for user tokens and a
:class:`ClientPrincipal` for ``client_credentials`` tokens.

Errors follow RFC 6750 §3: 401 ``invalid_token`` and 403 ``insufficient_scope`` with a
``WWW-Authenticate`` challenge and a JSON body ``{"error", "error_description"}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from . import endpoints, jose, keyring, revocation
from .conf import oauth_settings
from .errors import InsufficientScope, InvalidToken, OAuthError, TemporarilyUnavailable

logger = logging.getLogger("oauth_token")

CLIENT_SUBJECT_SUFFIX = "@clients"
# RFC 9068 §2.2: the claims every JWT access token carries.
REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
_AT_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_CHALLENGE_ATTR = "_oauth_token_challenge"


class AccessTokenClaims(Mapping[str, Any]):
    """The verified claims of an access token, read-only, with the parts views ask for."""

    def __init__(self, claims: Mapping[str, Any], token: str, scheme: str):
        self._claims = dict(claims)
        self.token = token
        self.scheme = scheme

    def __getitem__(self, name: str) -> Any:
        return self._claims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._claims)

    def __len__(self) -> int:
        return len(self._claims)

    def __repr__(self) -> str:
        return f"AccessTokenClaims(sub={self.subject!r}, client_id={self.client_id!r})"

    @property
    def subject(self) -> str:
        return str(self._claims["sub"])

    @property
    def client_id(self) -> str:
        return str(self._claims["client_id"])

    @property
    def scopes(self) -> frozenset[str]:
        scope = self._claims.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    @property
    def jkt(self) -> str | None:
        """RFC 9449 §6.1: the thumbprint of the key the token is bound to, if any."""
        cnf = self._claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        return jkt if isinstance(jkt, str) else None

    @property
    def is_client_token(self) -> bool:
        return self.subject.endswith(CLIENT_SUBJECT_SUFFIX)

    def has_scopes(self, scopes: Iterable[str]) -> bool:
        return set(scopes) <= self.scopes


class ClientPrincipal:
    """``request.user`` for a ``client_credentials`` token: a client acting for itself, not a
    person. Authenticated (DRF's ``IsAuthenticated`` passes) but holds no Django permissions
    and is not staff, like ``AnonymousUser`` in every other respect."""

    id = None
    pk = None
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    def __init__(self, client_id: str):
        self.client_id = client_id
        self.username = f"{client_id}{CLIENT_SUBJECT_SUFFIX}"

    def __str__(self) -> str:
        return self.username

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientPrincipal) and other.client_id == self.client_id

    def __hash__(self) -> int:
        return hash(self.client_id)

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Iterable[str], obj: Any = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False

    def get_all_permissions(self, obj: Any = None) -> set[str]:
        return set()


# --- challenges (RFC 6750 §3, RFC 9449 §7.1) ---------------------------------------------


def _quoted(value: str) -> str:
    """RFC 6750 §3: error_description and scope are quoted-strings without ``"`` or ``\\``."""
    return '"' + "".join(c for c in value if c.isprintable() and c not in '"\\') + '"'


def challenge(scheme: str, error: OAuthError | None = None, scope: str | None = None) -> str:
    """One ``WWW-Authenticate`` challenge. The DPoP scheme also names the proof algorithms
    this server accepts (RFC 9449 §7.1)."""
    params = [f"realm={_quoted(str(oauth_settings.RESOURCE_SERVER_REALM))}"]
    if error is not None:
        params.append(f"error={_quoted(error.error)}")
        params.append(f"error_description={_quoted(error.description)}")
    if scope:
        params.append(f"scope={_quoted(scope)}")
    if scheme == "DPoP":
        params.append(f"algs={_quoted(' '.join(oauth_settings.DPOP_SIGNING_ALGORITHMS))}")
    return f"{scheme} " + ", ".join(params)


def default_challenge() -> str:
    """No credentials at all: both schemes, without an error code (RFC 6750 §3.1)."""
    return ", ".join(challenge(s) for s in ("Bearer", "DPoP"))


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


class InsufficientScopeDenied(exceptions.PermissionDenied):
    """403 ``insufficient_scope`` with its challenge (RFC 6750 §3.1)."""

    def __init__(self, missing: Sequence[str], required: Sequence[str], scheme: str):
        error = InsufficientScope(f"The access token lacks the scope(s): {' '.join(missing)}.")
        super().__init__(detail={"error": error.error, "error_description": error.description})
        self.auth_header = challenge(scheme, error, scope=" ".join(required))


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


def verify_access_token(token: str, audiences: Sequence[str]) -> dict[str, Any]:
    """RFC 9068 §4: typ, a published kid whose alg equals the header's, signature, iss, aud,
    exp/nbf/iat with ``CLOCK_SKEW`` leeway and the required claims."""
    try:
        header = jose.unverified_header(token)
    except jose.JoseError as exc:
        raise InvalidToken("The access token is not a JWT.") from exc
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _AT_JWT_TYPES:
        raise InvalidToken("The token is not an access token (typ must be at+jwt).")
    kid = header.get("kid")
    found = keyring.verification_key(kid) if isinstance(kid, str) else None
    if found is None:
        raise InvalidToken("The token was not signed by a known key.")
    alg, key = found
    if header.get("alg") != alg:
        raise InvalidToken("The token algorithm does not match its key.")
    try:
        claims = jose.verify(
            token,
            key,
            [alg],
            audience=list(audiences),
            issuer=endpoints.issuer(),
            leeway=int(oauth_settings.CLOCK_SKEW),
            require=REQUIRED_CLAIMS,
        )
    except jose.JoseError as exc:
        raise InvalidToken(str(exc)) from exc
    if not all(isinstance(claims[c], str) for c in ("sub", "client_id", "jti")):
        raise InvalidToken("The token's sub, client_id and jti must be strings.")
    return claims


def user_for_claims(claims: AccessTokenClaims) -> Any:
    """The principal behind a token: a client for ``<client_id>@clients`` (Auth0's subject
    for client_credentials), otherwise the active Django user whose pk is ``sub``
    (``claims.subject``)."""
    if claims.is_client_token:
        if claims.subject != f"{claims.client_id}{CLIENT_SUBJECT_SUFFIX}":
            raise InvalidToken("The token's subject does not match its client.")
        return ClientPrincipal(claims.client_id)
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(claims.subject)
    except (ValidationError, ValueError, TypeError):
        pk = None
    if isinstance(pk, int) and not -(2**63) <= pk < 2**63:
        pk = None  # no database column holds it; querying would be a DataError, not a miss
    user = user_model._default_manager.filter(pk=pk).first() if pk is not None else None
    if user is None or not getattr(user, "is_active", True):
        raise InvalidToken("The token's user is unknown or inactive.")
    return user


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
            if oauth_settings.RESOURCE_SERVER_CHECK_REVOCATION and revocation.is_revoked(
                claims["jti"]
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
        from .dpop import verify_resource_request

        verify_resource_request(request, claims)

    def _remember(self, request: Request, failure: TokenAuthenticationFailed) -> None:
        setattr(request._request, _CHALLENGE_ATTR, failure)

    def authenticate_header(self, request: Request) -> str:
        failure = getattr(request._request, _CHALLENGE_ATTR, None)
        if isinstance(failure, TokenAuthenticationFailed):
            return challenge(failure.scheme, failure.oauth_error)
        return default_challenge()


# --- permissions ---------------------------------------------------------------------------


def _required_for(view: Any, request: Request) -> tuple[str, ...]:
    """``required_scopes`` is a list of scopes, or a mapping from HTTP method to a list (with
    ``"*"`` for every other method)."""
    required = getattr(view, "required_scopes", None)
    if required is None:
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses RequiredScopes but defines no `required_scopes`."
        )
    if isinstance(required, Mapping):
        required = required.get(request.method or "", required.get("*", ()))
    if isinstance(required, str):
        required = required.split()
    return tuple(required)


def _check_scopes(request: Request, required: Sequence[str]) -> bool:
    claims = request.auth
    if not isinstance(claims, AccessTokenClaims):
        return False
    missing = [s for s in required if s not in claims.scopes]
    if missing:
        raise InsufficientScopeDenied(missing, required, claims.scheme)
    return True


class RequiredScopes(BasePermission):
    """Every scope in the view's ``required_scopes`` must be in the token's ``scope``; a
    missing one is 403 ``insufficient_scope`` naming the scopes needed (RFC 6750 §3.1)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _check_scopes(request, _required_for(view, request))


def HasScope(*scopes: str) -> type[BasePermission]:
    """``permission_classes = [HasScope("read:things")]``: a permission class requiring all
    the given scopes."""
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise ValueError("HasScope needs at least one scope name.")
    required = tuple(scopes)

    def has_permission(self: BasePermission, request: Request, view: Any) -> bool:
        return _check_scopes(request, required)

    name = "HasScope(" + ", ".join(repr(s) for s in required) + ")"
    attrs: dict[str, Callable[..., Any] | tuple[str, ...]] = {
        "has_permission": has_permission,
        "scopes": required,
    }
    return type(name, (BasePermission,), attrs)
