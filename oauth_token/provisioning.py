"""Creating and changing clients, APIs and grants: shared by commands, the admin and tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from . import jose, secrets
from .keyring import encryption_keys
from .models import Api, ApiScope, Client, ClientGrant
from .models.clients import SECRET_AUTH_METHODS, AuthMethod, ClientType

DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class CreatedClient:
    client: Client
    secret: str | None  # shown once; only its digest is stored


def _needs_secret(auth_method: str) -> bool:
    return auth_method in SECRET_AUTH_METHODS


def _store_secret(client: Client, secret: str) -> None:
    client.secret_digest = secrets.digest(secret)
    client.secret_sealed = (
        jose.seal(secret.encode(), encryption_keys()[0], aad=client.client_id.encode())
        if client.token_endpoint_auth_method == AuthMethod.CLIENT_SECRET_JWT
        else ""
    )


def create_client(
    *,
    name: str,
    client_type: str = ClientType.CONFIDENTIAL,
    grant_types: Sequence[str] | None = None,
    redirect_uris: Sequence[str] = (),
    auth_method: str | None = None,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str = "",
    first_party: bool = False,
    can_introspect: bool = False,
    require_dpop: bool = False,
    require_par: bool = False,
    **extra: Any,
) -> CreatedClient:
    """Defaults per DESIGN.md: authorization_code + refresh_token; confidential clients
    authenticate with client_secret_basic, public ones with none."""
    if client_type not in ClientType.values:
        raise ValidationError(f"Unknown client type {client_type!r}.")
    if auth_method is None:
        auth_method = (
            AuthMethod.NONE if client_type == ClientType.PUBLIC else AuthMethod.CLIENT_SECRET_BASIC
        )
    if auth_method not in AuthMethod.values:
        raise ValidationError(f"Unknown auth method {auth_method!r}.")
    if client_type == ClientType.PUBLIC and auth_method != AuthMethod.NONE:
        raise ValidationError("A public client authenticates with 'none'.")
    if client_type == ClientType.CONFIDENTIAL and auth_method == AuthMethod.NONE:
        raise ValidationError(
            "A confidential client needs an authentication method other than 'none'."
        )
    if auth_method == AuthMethod.PRIVATE_KEY_JWT and not (jwks or jwks_uri):
        raise ValidationError("private_key_jwt needs a JWK Set (--jwks-file) or a jwks_uri.")
    if jwks is not None:
        validate_jwks(jwks)
    client = Client(
        name=name,
        client_type=client_type,
        token_endpoint_auth_method=auth_method,
        grant_types=list(grant_types) if grant_types else list(DEFAULT_GRANT_TYPES),
        redirect_uris=list(redirect_uris),
        jwks=jwks,
        jwks_uri=jwks_uri,
        first_party=first_party,
        can_introspect=can_introspect,
        require_dpop=require_dpop,
        require_par=require_par,
        **extra,
    )
    secret = secrets.new_secret() if _needs_secret(auth_method) else None
    if secret:
        _store_secret(client, secret)
    client.full_clean()
    client.save()
    return CreatedClient(client, secret)


def rotate_secret(client: Client) -> str:
    """A new secret replaces the old one at once (the next request sees it, via signals)."""
    if not _needs_secret(client.token_endpoint_auth_method):
        raise ValidationError(
            f"Client {client.client_id} uses {client.token_endpoint_auth_method} and has no secret."
        )
    secret = secrets.new_secret()
    _store_secret(client, secret)
    client.save(update_fields=["secret_digest", "secret_sealed", "updated_at"])
    return secret


def validate_jwks(jwks: Any) -> None:
    """A client's JWK Set must hold public keys only, each usable for some algorithm."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValidationError("A JWK Set is an object with a non-empty 'keys' list.")
    for jwk in jwks["keys"]:
        try:
            jose.public_key_from_jwk(jwk)
        except jose.JoseError as exc:
            raise ValidationError(f"Invalid JWK in set: {exc}") from exc


def create_api(
    *,
    identifier: str,
    name: str,
    scopes: Iterable[str] = (),
    token_lifetime: int | None = None,
    allow_offline_access: bool = False,
    signing_alg: str | None = None,
) -> Api:
    with transaction.atomic():
        api = Api(identifier=identifier, name=name, allow_offline_access=allow_offline_access)
        if token_lifetime is not None:
            api.access_token_lifetime = token_lifetime
        if signing_alg:
            api.signing_alg = signing_alg
        api.full_clean()
        api.save()
        for scope in dict.fromkeys(scopes):
            ApiScope.objects.create(api=api, name=scope)
    return api


def grant(client: Client, api: Api, scopes: Iterable[str] | None = None) -> ClientGrant:
    """Allow ``client`` these scopes of ``api`` for client_credentials (all when None)."""
    known = set(api.scopes.values_list("name", flat=True))
    wanted = list(dict.fromkeys(scopes)) if scopes is not None else sorted(known)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ValidationError(f"API {api.identifier} has no scope(s): {', '.join(unknown)}.")
    row, _ = ClientGrant.objects.update_or_create(
        client=client, api=api, defaults={"scopes": wanted}
    )
    return row
