"""Dynamic client registration (RFC 7591) and registration management (RFC 7592).

A client sends its metadata as JSON; it is checked here field by field (RFC 7591 §2) and then
by the same provisioning rules the admin and ``oauth_client`` apply, so a dynamically
registered client can never be one an operator could not have created. Self-registered
clients are always third-party (the consent page is shown), never introspect, and may use only
the grants that need no operator trust (no password, token-exchange or jwt-bearer grants).

What the client gets back to manage its registration, the registration access token, is
stored as a SHA-256 digest and replaced on every update (RFC 7592 §2.2).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from oauth_token.core import secrets
from oauth_token.core.identifiers import plausible
from oauth_token.errors import InvalidClientMetadata, InvalidRedirectUri, InvalidToken
from oauth_token.models import Client, ClientRegistration, InitialAccessToken
from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH, AuthMethod, ClientType
from oauth_token.registry import provisioning

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
# Grants a client may give itself: none needs an operator's trust in the client.
DYNAMIC_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", DEVICE_CODE)
# RFC 7591 §2 string members kept and returned as registered (unknown members are ignored).
STRING_MEMBERS = (
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
    "scope",
)
URI_MEMBERS = frozenset({"client_uri", "logo_uri", "tos_uri", "policy_uri"})
# RFC 7592 §2.2: members a client must not send in an update.
SERVER_MEMBERS = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)
MAX_REDIRECT_URIS = 20
MAX_STRING = 2000
DEFAULT_NAME = "Dynamically registered client"


@dataclass(frozen=True)
class LogoutMetadata:
    """The logout members (OIDC RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0 §2.2)
    and how they are returned (``document``)."""

    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str = ""
    backchannel_logout_session_required: bool = False
    document: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientMetadata:
    """Validated client metadata (RFC 7591 §2), ready for ``provisioning``."""

    name: str
    client_type: str
    auth_method: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    jwks: dict[str, Any] | None
    jwks_uri: str
    document: dict[str, Any] = field(default_factory=dict)
    logout: LogoutMetadata = field(default_factory=LogoutMetadata)


@dataclass(frozen=True)
class Registered:
    """A registration as returned to its client (RFC 7591 §3.2.1, RFC 7592 §3)."""

    client: Client
    registration: ClientRegistration
    secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)


def parse_metadata(body: Any) -> ClientMetadata:
    """RFC 7591 §2 member by member; ``invalid_redirect_uri`` or ``invalid_client_metadata``."""
    if not isinstance(body, Mapping):
        raise InvalidClientMetadata("The client metadata must be a JSON object.")
    redirect_uris = _redirect_uris(body.get("redirect_uris"))
    auth_method = _string(body, "token_endpoint_auth_method") or AuthMethod.CLIENT_SECRET_BASIC
    if auth_method not in AuthMethod.values:
        raise InvalidClientMetadata("token_endpoint_auth_method is not supported.")
    grant_types = _string_list(body, "grant_types") or ["authorization_code"]
    refused = [g for g in grant_types if g not in DYNAMIC_GRANT_TYPES]
    if refused:
        raise InvalidClientMetadata(f"grant_types may only name {', '.join(DYNAMIC_GRANT_TYPES)}.")
    response_types = _string_list(body, "response_types") or ["code"]
    if set(response_types) - {"code"}:
        raise InvalidClientMetadata("Only the response type 'code' is supported.")
    if "authorization_code" in grant_types and not redirect_uris:
        raise InvalidRedirectUri("The authorization_code grant needs redirect_uris.")
    jwks = body.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise InvalidClientMetadata("jwks must be a JSON Web Key Set object.")
    jwks_uri = _string(body, "jwks_uri") or ""
    if jwks_uri and urlsplit(jwks_uri).scheme != "https":
        raise InvalidClientMetadata("jwks_uri must be an https URL.")
    client_type = ClientType.PUBLIC if auth_method == AuthMethod.NONE else ClientType.CONFIDENTIAL
    logout = _logout_metadata(body)
    try:
        provisioning.validate_client_settings(
            client_type=client_type,
            auth_method=auth_method,
            grant_types=grant_types,
            redirect_uris=redirect_uris,
            jwks=jwks,
            jwks_uri=jwks_uri,
            post_logout_redirect_uris=logout.post_logout_redirect_uris,
            backchannel_logout_uri=logout.backchannel_logout_uri,
        )
    except ValidationError as exc:
        raise InvalidClientMetadata(" ".join(exc.messages)) from exc
    name = _string(body, "client_name") or DEFAULT_NAME
    document: dict[str, Any] = {
        "client_name": name,
        "redirect_uris": list(redirect_uris),
        "token_endpoint_auth_method": auth_method,
        "grant_types": list(dict.fromkeys(grant_types)),
        "response_types": ["code"],
    }
    for member in STRING_MEMBERS:
        value = _string(body, member)
        if value is not None:
            if member in URI_MEMBERS and urlsplit(value).scheme not in ("https", "http"):
                raise InvalidClientMetadata(f"{member} must be an http(s) URL.")
            document[member] = value
    contacts = _string_list(body, "contacts")
    if contacts:
        document["contacts"] = contacts
    if jwks_uri:
        document["jwks_uri"] = jwks_uri
    if jwks is not None:
        document["jwks"] = jwks
    document.update(logout.document)
    return ClientMetadata(
        name=name[:200],
        client_type=client_type,
        auth_method=auth_method,
        grant_types=tuple(document["grant_types"]),
        redirect_uris=redirect_uris,
        jwks=jwks,
        jwks_uri=jwks_uri,
        document=document,
        logout=logout,
    )


def _logout_metadata(body: Mapping[str, Any]) -> LogoutMetadata:
    """The logout members, checked as the members they are; provisioning then applies the
    rules the admin and commands share. Since anyone may register, a
    ``backchannel_logout_uri`` is https, or http on a loopback address (development), as for
    redirect URIs; the outbound module still refuses internal addresses when it is used."""
    post_logout = tuple(_string_list(body, "post_logout_redirect_uris"))
    uri = _string(body, "backchannel_logout_uri") or ""
    checked = [("backchannel_logout_uri", uri)] if uri else []
    for name, value in checked + [("post_logout_redirect_uris", u) for u in post_logout]:
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise InvalidClientMetadata(f"{name}: {value!r} is not a URL.") from exc
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            raise InvalidClientMetadata(f"{name}: http only on a loopback address.")
    required = body.get("backchannel_logout_session_required", False)
    if not isinstance(required, bool):
        raise InvalidClientMetadata("backchannel_logout_session_required must be a boolean.")
    document: dict[str, Any] = {}
    if post_logout:
        document["post_logout_redirect_uris"] = list(post_logout)
    if uri:
        document["backchannel_logout_uri"] = uri
    if uri or "backchannel_logout_session_required" in body:
        document["backchannel_logout_session_required"] = required
    return LogoutMetadata(post_logout, uri, required, document)


def _string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_STRING or not value.isprintable():
        raise InvalidClientMetadata(f"{name} must be a string.")
    return value or None


def _string_list(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_REDIRECT_URIS:
        raise InvalidClientMetadata(f"{name} must be an array of at most {MAX_REDIRECT_URIS}.")
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_STRING for v in value):
        raise InvalidClientMetadata(f"{name} must be an array of strings.")
    return list(dict.fromkeys(value))


def _redirect_uris(value: Any) -> tuple[str, ...]:
    """Each an absolute URI without fragment (the provisioning rule), and, because anyone may
    register, http only for loopback addresses (RFC 8252 §7.3, §8.3)."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"redirect_uris must be an array of at most {MAX_REDIRECT_URIS}.")
    uris: list[str] = []
    for uri in value:
        if not isinstance(uri, str) or not uri or len(uri) > MAX_STRING or not uri.isprintable():
            raise InvalidRedirectUri("Each redirect URI must be a non-empty string.")
        try:
            provisioning.validate_redirect_uri(uri)
        except (ValidationError, ValueError) as exc:
            message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise InvalidRedirectUri(message) from exc
        if urlsplit(uri).scheme == "http" and not _loopback(urlsplit(uri).hostname or ""):
            raise InvalidRedirectUri("An http redirect URI must be a loopback address.")
        uris.append(uri)
    return tuple(dict.fromkeys(uris))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- registering, reading, updating, deleting ------------------------------------------------


def register(metadata: ClientMetadata, request: HttpRequest | None = None) -> Registered:
    """Create the client through provisioning and its registration (RFC 7591 §3.2.1); the
    ``client_registered`` signal is sent once the transaction commits."""
    access_token = secrets.new_secret(32)
    with transaction.atomic():
        created = provisioning.create_client(
            name=metadata.name,
            client_type=metadata.client_type,
            grant_types=metadata.grant_types,
            redirect_uris=metadata.redirect_uris,
            auth_method=metadata.auth_method,
            jwks=metadata.jwks,
            jwks_uri=metadata.jwks_uri,
            post_logout_redirect_uris=metadata.logout.post_logout_redirect_uris,
            backchannel_logout_uri=metadata.logout.backchannel_logout_uri,
            backchannel_logout_session_required=metadata.logout.backchannel_logout_session_required,
            registration="dynamic",
            request=request,
        )
        registration = ClientRegistration.objects.create(
            client=created.client,
            access_token_digest=secrets.digest(access_token),
            metadata=metadata.document,
        )
    return Registered(created.client, registration, created.secret, access_token)


def authenticate(client_id: str, authorization: str | None) -> ClientRegistration:
    """RFC 7592 §3: the registration access token as a Bearer token (RFC 6750 §2.1). An unknown
    client and a wrong token are the same 401, so the answer reveals no client_id."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("A registration access token is required.")
    if not plausible(client_id, CLIENT_ID_MAX_LENGTH):
        # No row can hold it (NUL, control characters, too long): unknown, without asking a
        # database that would refuse the value with an error rather than an empty result.
        raise InvalidToken("The registration access token is invalid.")
    registration = (
        ClientRegistration.objects.select_related("client")
        .filter(client__client_id=client_id)
        .first()
    )
    digest = secrets.digest(token.strip())
    if registration is None or not hmac.compare_digest(registration.access_token_digest, digest):
        raise InvalidToken("The registration access token is invalid.")
    return registration


def update(registration: ClientRegistration, body: Any) -> Registered:
    """RFC 7592 §2.2: the whole metadata replaces the registered one; ``client_id`` must match,
    server-issued members must be absent, a ``client_secret`` sent must be the current one.
    The registration access token is rotated; a new secret is issued only when the new
    authentication method needs one the client does not have."""
    client = registration.client
    if not isinstance(body, Mapping):
        raise InvalidClientMetadata("The client metadata must be a JSON object.")
    if body.get("client_id") != client.client_id:
        raise InvalidClientMetadata("client_id must be the registered client's.")
    sent = [m for m in SERVER_MEMBERS if m in body]
    if sent:
        raise InvalidClientMetadata(f"{sent[0]} must not be sent in an update.")
    presented = body.get("client_secret")
    if presented is not None and not (
        isinstance(presented, str)
        and client.secret_digest
        and hmac.compare_digest(client.secret_digest, secrets.digest(presented))
    ):
        raise InvalidClientMetadata("client_secret does not match.")
    metadata = parse_metadata(body)
    access_token = secrets.new_secret(32)
    with transaction.atomic():
        client.name = metadata.name
        client.client_type = metadata.client_type
        client.token_endpoint_auth_method = metadata.auth_method
        client.grant_types = list(metadata.grant_types)
        client.redirect_uris = list(metadata.redirect_uris)
        client.jwks = metadata.jwks
        client.jwks_uri = metadata.jwks_uri
        logout = metadata.logout
        client.post_logout_redirect_uris = list(logout.post_logout_redirect_uris)
        client.backchannel_logout_uri = logout.backchannel_logout_uri
        client.backchannel_logout_session_required = logout.backchannel_logout_session_required
        secret = provisioning.ensure_secret(client)
        client.full_clean()
        client.save()
        registration.metadata = metadata.document
        registration.access_token_digest = secrets.digest(access_token)
        registration.save(update_fields=["metadata", "access_token_digest", "updated_at"])
    return Registered(client, registration, secret, access_token)


def delete(registration: ClientRegistration) -> None:
    """RFC 7592 §2.3: the client and its grants, tokens and registration go at once."""
    provisioning.delete_client(registration.client)


def response_body(registered: Registered, registration_client_uri: str) -> dict[str, Any]:
    """RFC 7591 §3.2.1 / RFC 7592 §3: the metadata as registered plus what the server issued."""
    client = registered.client
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        **registered.registration.metadata,
        "registration_client_uri": registration_client_uri,
    }
    if registered.secret is not None:
        body["client_secret"] = registered.secret
        body["client_secret_expires_at"] = 0
    if registered.access_token is not None:
        body["registration_access_token"] = registered.access_token
    return body


# --- initial access tokens (REGISTRATION = "token") -------------------------------------------


def issue_initial_access_token(expires_in: int) -> tuple[str, datetime]:
    """A one-time token for one registration; only its digest is stored."""
    token = secrets.new_secret(32)
    expires_at = timezone.now() + timedelta(seconds=expires_in)
    InitialAccessToken.objects.create(token_digest=secrets.digest(token), expires_at=expires_at)
    return token, expires_at


def consume_initial_access_token(authorization: str | None) -> InitialAccessToken:
    """RFC 7591 §3: the initial access token as a Bearer token, used up by one conditional
    UPDATE (of two registrations racing with one token exactly one succeeds). Runs inside the
    registration's transaction, so a registration refused later gives the token back."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("An initial access token is required to register a client.")
    now = timezone.now()
    digest = secrets.digest(token.strip())
    used = InitialAccessToken.objects.filter(
        token_digest=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if used != 1:
        raise InvalidToken("The initial access token is invalid, expired or already used.")
    return InitialAccessToken.objects.get(token_digest=digest)


def link_initial_access_token(token: InitialAccessToken, client: Client) -> None:
    token.client = client
    token.save(update_fields=["client"])
