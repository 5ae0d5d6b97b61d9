"""Creating and changing clients, APIs and grants: shared by commands, the admin and tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from oauth_token import signals
from oauth_token.conf import DEFAULTS, oauth_settings
from oauth_token.core import jose, secrets
from oauth_token.models import Api, ApiScope, Client, ClientGrant
from oauth_token.models.clients import SECRET_AUTH_METHODS, AuthMethod, ClientType
from oauth_token.registry.keyring import encryption_keys
from oauth_token.signals import send_after_commit

# Schemes a browser would execute or read locally instead of navigating to an application.
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})

DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")

# The grant types this package ships (conf.DEFAULTS["GRANT_TYPES"]): a client may be
# registered for these even before the deployment enables them.
KNOWN_GRANT_TYPES = tuple(DEFAULTS["GRANT_TYPES"])


def invalid(field: str, message: str) -> ValidationError:
    """Every refusal names the field it is about, so the admin shows it beside that field and
    commands and registration print ``field: message`` (:func:`messages_naming_fields`)."""
    return ValidationError({field: [message]})


def messages_naming_fields(exc: ValidationError) -> list[str]:
    """``["name: This field cannot be blank."]``: each message prefixed with its field (model
    field names, as the admin and RFC 7591 metadata use them); non-field messages as they are."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [
        message if field == NON_FIELD_ERRORS else f"{field}: {message}"
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


@dataclass(frozen=True)
class CreatedClient:
    client: Client
    secret: str | None  # shown once; only its digest is stored


def _needs_secret(auth_method: str) -> bool:
    return auth_method in SECRET_AUTH_METHODS


def _new_secret(auth_method: str) -> str:
    """256 bits, or 512 for client_secret_jwt: the secret is then an HMAC key, and RFC 7518
    §3.2 wants a key at least as long as the hash, so HS512 must work too."""
    return secrets.new_secret(64 if auth_method == AuthMethod.CLIENT_SECRET_JWT else 32)


def _store_secret(client: Client, secret: str) -> None:
    client.secret_digest = secrets.digest(secret)
    client.secret_sealed = (
        jose.seal(secret.encode(), encryption_keys()[0], aad=client.client_id.encode())
        if client.token_endpoint_auth_method == AuthMethod.CLIENT_SECRET_JWT
        else ""
    )


def known_grant_types() -> list[str]:
    """The documented grant types plus every one the deployment's grant registry names."""
    return list(dict.fromkeys([*KNOWN_GRANT_TYPES, *oauth_settings.grant_types]))


def split_uri(field: str, uri: str) -> SplitResult:
    """``urlsplit``, with what it cannot parse (``http://[::1``) refused as invalid input."""
    try:
        return urlsplit(uri)
    except ValueError as exc:
        raise invalid(field, f"{uri!r} is not a valid URI.") from exc


def validate_redirect_uri(uri: str) -> None:
    """RFC 6749 §3.1.2: an absolute URI without a fragment. Custom schemes are allowed for
    native apps (RFC 8252 §7.1)."""
    parts = split_uri("redirect_uris", uri)
    if not parts.scheme or parts.fragment or any(c.isspace() for c in uri):
        raise invalid(
            "redirect_uris", f"Redirect URI {uri!r} must be an absolute URI without a fragment."
        )
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise invalid("redirect_uris", f"Redirect URI {uri!r} has no host.")
    if parts.scheme.lower() in UNSAFE_SCHEMES:
        raise invalid(
            "redirect_uris", f"Redirect URI {uri!r} uses a scheme browsers do not navigate to."
        )


def validate_backchannel_logout_uri(uri: str) -> None:
    """OIDC Back-Channel Logout 1.0 §2.2: an absolute http(s) URL without a fragment, where
    this server POSTs logout tokens (https in production; http for local development)."""
    field = "backchannel_logout_uri"
    parts = split_uri(field, uri)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise invalid(
            field,
            f"Back-channel logout URI {uri!r} must be an absolute http(s) URL without a fragment.",
        )
    if any(c.isspace() for c in uri) or parts.username is not None:
        raise invalid(field, f"Back-channel logout URI {uri!r} is not a plain URL.")


def validate_client_settings(
    *,
    client_type: str,
    auth_method: str,
    grant_types: Sequence[str],
    redirect_uris: Sequence[str] = (),
    jwks: Any = None,
    jwks_uri: str = "",
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str = "",
) -> None:
    """The rules a client's registration must satisfy, shared by commands and the admin."""
    if client_type not in ClientType.values:
        raise invalid("client_type", f"Unknown client type {client_type!r}.")
    if auth_method not in AuthMethod.values:
        raise invalid("token_endpoint_auth_method", f"Unknown auth method {auth_method!r}.")
    if client_type == ClientType.PUBLIC and auth_method != AuthMethod.NONE:
        raise invalid("token_endpoint_auth_method", "A public client authenticates with 'none'.")
    if client_type == ClientType.CONFIDENTIAL and auth_method == AuthMethod.NONE:
        raise invalid(
            "token_endpoint_auth_method",
            "A confidential client needs an authentication method other than 'none'.",
        )
    if auth_method == AuthMethod.PRIVATE_KEY_JWT and not (jwks or jwks_uri):
        raise invalid("jwks", "private_key_jwt needs a JWK Set (--jwks-file) or a jwks_uri.")
    if jwks and jwks_uri:
        raise invalid("jwks_uri", "Give either a JWK Set or a jwks_uri, not both.")
    if jwks is not None:
        validate_jwks(jwks)
    known = known_grant_types()
    unknown = [g for g in grant_types if g not in known]
    if unknown:
        raise invalid(
            "grant_types",
            f"Unknown grant type(s): {', '.join(unknown)}; choose from {', '.join(known)}.",
        )
    if client_type == ClientType.PUBLIC and "client_credentials" in grant_types:
        raise invalid(
            "grant_types", "client_credentials is for confidential clients (RFC 6749 §4.4)."
        )
    for uri in redirect_uris:
        validate_redirect_uri(uri)
    # RP-Initiated Logout §3.1: the same rules as redirect URIs (no fragment, no executable
    # scheme), since the browser is sent there the same way.
    for uri in post_logout_redirect_uris:
        validate_redirect_uri(uri)
    if backchannel_logout_uri:
        validate_backchannel_logout_uri(backchannel_logout_uri)


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
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str = "",
    registration: str = "command",
    request: Any = None,
    **extra: Any,
) -> CreatedClient:
    """Documented defaults: authorization_code + refresh_token; confidential clients
    authenticate with client_secret_basic, public ones with none. ``client_registered`` is
    sent after commit with ``registration`` ("command", "admin" or "dynamic")."""
    if auth_method is None:
        auth_method = (
            AuthMethod.NONE if client_type == ClientType.PUBLIC else AuthMethod.CLIENT_SECRET_BASIC
        )
    grant_types = list(dict.fromkeys(grant_types)) if grant_types else list(DEFAULT_GRANT_TYPES)
    redirect_uris = list(dict.fromkeys(redirect_uris))
    post_logout_redirect_uris = list(dict.fromkeys(post_logout_redirect_uris))
    validate_client_settings(
        client_type=client_type,
        auth_method=auth_method,
        grant_types=grant_types,
        redirect_uris=redirect_uris,
        jwks=jwks,
        jwks_uri=jwks_uri,
        post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri,
    )
    client = Client(
        name=name,
        client_type=client_type,
        token_endpoint_auth_method=auth_method,
        grant_types=grant_types,
        redirect_uris=redirect_uris,
        jwks=jwks,
        jwks_uri=jwks_uri,
        first_party=first_party,
        can_introspect=can_introspect,
        require_dpop=require_dpop,
        require_par=require_par,
        post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri,
        **extra,
    )
    secret = _new_secret(auth_method) if _needs_secret(auth_method) else None
    if secret:
        _store_secret(client, secret)
    client.full_clean()
    client.save()
    announce_client(client, registration, request)
    return CreatedClient(client, secret)


def announce_client(client: Client, registration: str, request: Any = None) -> None:
    """``client_registered``, once the transaction that created ``client`` commits."""
    send_after_commit(
        signals.client_registered,
        Client,
        client_id=client.client_id,
        registration=registration,
        request=request,
    )


def ensure_secret(client: Client) -> str | None:
    """Make a client's stored secret fit its auth method (the admin edits the method itself).

    A method without a secret clears it; a method that needs one and has none (or, for
    client_secret_jwt, whose HMAC key the server must hold sealed, has no sealed copy) gets a
    fresh secret, returned to be shown once. Otherwise the secret stays and None is returned.
    """
    method = client.token_endpoint_auth_method
    if not _needs_secret(method):
        client.secret_digest = client.secret_sealed = ""
        return None
    if not client.secret_digest or (
        method == AuthMethod.CLIENT_SECRET_JWT and not client.secret_sealed
    ):
        secret = _new_secret(method)
        _store_secret(client, secret)
        return secret
    if method != AuthMethod.CLIENT_SECRET_JWT:
        client.secret_sealed = ""  # no decryptable copy where only the digest is needed
    return None


def get_client(client_id: str) -> Client:
    client = Client.objects.filter(client_id=client_id).first()
    if client is None:
        raise LookupError(f"No client with client_id {client_id!r}.")
    return client


def get_api(identifier: str) -> Api:
    api = Api.objects.filter(identifier=identifier).first()
    if api is None:
        raise LookupError(f"No API with identifier {identifier!r}.")
    return api


def delete_client(client: Client) -> None:
    """Deleting a client takes effect on the next request everywhere (signals drop the cached
    snapshot); its grants go with it."""
    client.delete()


def rotate_secret(client: Client) -> str:
    """A new secret replaces the old one at once (the next request sees it, via signals)."""
    if not _needs_secret(client.token_endpoint_auth_method):
        raise ValidationError(
            f"Client {client.client_id} uses {client.token_endpoint_auth_method} and has no secret."
        )
    secret = _new_secret(client.token_endpoint_auth_method)
    _store_secret(client, secret)
    client.save(update_fields=["secret_digest", "secret_sealed", "updated_at"])
    return secret


def validate_jwks(jwks: Any) -> None:
    """A client's JWK Set must hold public keys only, each usable for some algorithm."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise invalid("jwks", "A JWK Set is an object with a non-empty 'keys' list.")
    for jwk in jwks["keys"]:
        try:
            jose.public_key_from_jwk(jwk)
        except jose.JoseError as exc:
            raise invalid("jwks", f"Invalid JWK in set: {exc}") from exc


def validate_scope_name(name: str) -> None:
    """RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )."""
    if not name or any(not (0x21 <= ord(c) <= 0x7E) or c in '"\\' for c in name):
        raise invalid("scopes", f"Invalid scope name {name!r} (RFC 6749 §3.3).")


def validate_api_identifier(identifier: str) -> None:
    """An API's identifier is the ``audience`` / ``resource`` clients send: RFC 8707 §2 makes
    it an absolute URI without a fragment (Auth0 suggests a URL; URNs work too)."""
    parts = urlsplit(identifier)
    if (
        not parts.scheme
        or any(c.isspace() for c in identifier)
        or parts.fragment
        or (parts.scheme in ("http", "https") and not parts.netloc)
    ):
        raise invalid(
            "identifier",
            f"{identifier!r} is not an absolute URI without a fragment "
            "(e.g. https://api.example.com); clients send it as `audience`.",
        )


def create_api(
    *,
    identifier: str,
    name: str,
    scopes: Iterable[str] = (),
    token_lifetime: int | None = None,
    allow_offline_access: bool = False,
    signing_alg: str | None = None,
    rbac: bool = False,
    permissions_in_token: bool = False,
) -> Api:
    scopes = list(dict.fromkeys(scopes))
    api = Api(
        identifier=identifier,
        name=name,
        allow_offline_access=allow_offline_access,
        rbac=rbac,
        permissions_in_token=permissions_in_token,
    )
    if token_lifetime is not None:
        api.access_token_lifetime = token_lifetime
    if signing_alg:
        api.signing_alg = signing_alg
    errors: dict[str, Any] = {}
    checks: list[tuple[Any, Any]] = [(validate_api_identifier, identifier), (Api.full_clean, api)]
    for validate, value in checks + [(validate_scope_name, scope) for scope in scopes]:
        try:
            validate(value)
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)  # every mistake at once, each naming its field
    with transaction.atomic():
        api.save()
        for scope in scopes:
            ApiScope.objects.create(api=api, name=scope)
    return api


def grant(client: Client, api: Api, scopes: Iterable[str] | None = None) -> ClientGrant:
    """Allow ``client`` these scopes of ``api`` for client_credentials (all when None)."""
    known = set(api.scopes.values_list("name", flat=True))
    wanted = list(dict.fromkeys(scopes)) if scopes is not None else sorted(known)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise invalid("scopes", f"API {api.identifier} has no scope(s): {', '.join(unknown)}.")
    row, _ = ClientGrant.objects.update_or_create(
        client=client, api=api, defaults={"scopes": wanted}
    )
    return row
