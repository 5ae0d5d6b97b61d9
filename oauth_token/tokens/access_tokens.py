"""This server's own JWTs, verified: access tokens (RFC 9068 §4) for resource servers,
introspection, revocation and token exchange; ID tokens presented back as subject tokens or
hints. One verifier, so every place applies the same key, ``typ``, ``alg`` and ``iss`` rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from oauth_token.conf import oauth_settings
from oauth_token.core import endpoints, jose
from oauth_token.errors import InvalidToken
from oauth_token.registry import keyring

CLIENT_SUBJECT_SUFFIX = "@clients"
# RFC 9068 §2.2: the claims every JWT access token carries.
REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


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
    def permissions(self) -> frozenset[str]:
        """Auth0's RBAC ``permissions`` claim when the token has one, else its scopes."""
        value = self._claims.get("permissions")
        if isinstance(value, list):
            return frozenset(p for p in value if isinstance(p, str))
        return self.scopes

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


def verify_own_jwt(
    token: str,
    *,
    access_token: bool,
    audiences: Sequence[str] | None = None,
    require: Sequence[str] = ("iss", "sub", "exp", "iat"),
    verify_exp: bool = True,
) -> dict[str, Any]:
    """A JWT this server signed with a published key: the ``typ`` of an access token (RFC 9068
    §2.1) or, when ``access_token`` is False, of any other of our JWTs; a ``kid`` whose
    algorithm equals the header's; signature, ``iss``, ``aud`` when given, and the time claims
    with ``CLOCK_SKEW`` leeway. Raises InvalidToken with a reason safe to show."""
    try:
        header = jose.unverified_header(token)
    except jose.JoseError as exc:
        raise InvalidToken("The access token is not a JWT.") from exc
    typ = header.get("typ")
    is_access = isinstance(typ, str) and typ.lower() in ACCESS_TOKEN_TYPES
    if is_access != access_token:
        raise InvalidToken(
            "The token is not an access token (typ must be at+jwt)."
            if access_token
            else "An access token is not accepted here."
        )
    kid = header.get("kid")
    found = keyring.verification_key(kid) if isinstance(kid, str) else None
    if found is None:
        raise InvalidToken("The token was not signed by a known key.")
    alg, key = found
    if header.get("alg") != alg:
        raise InvalidToken("The token algorithm does not match its key.")
    try:
        return jose.verify(
            token,
            key,
            [alg],
            audience=list(audiences) if audiences is not None else None,
            issuer=endpoints.issuer(),
            leeway=int(oauth_settings.CLOCK_SKEW),
            require=require,
            verify_exp=verify_exp,
        )
    except jose.JoseError as exc:
        raise InvalidToken(str(exc)) from exc


def verify_access_token(token: str, audiences: Sequence[str]) -> dict[str, Any]:
    """RFC 9068 §4: as :func:`verify_own_jwt`, with ``aud`` and the required claims."""
    claims = verify_own_jwt(token, access_token=True, audiences=audiences, require=REQUIRED_CLAIMS)
    if not all(isinstance(claims[c], str) for c in ("sub", "client_id", "jti")):
        raise InvalidToken("The token's sub, client_id and jti must be strings.")
    return claims


def own_jwt_claims(token: str, *, access_token: bool) -> dict[str, Any] | None:
    """Claims of one of our JWTs with expiry left to the caller (introspection answers
    ``active: false`` for an expired token rather than refusing it), or None."""
    try:
        return verify_own_jwt(token, access_token=access_token, verify_exp=False)
    except InvalidToken:
        return None


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
