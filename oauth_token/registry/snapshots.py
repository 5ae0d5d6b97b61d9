"""Cached, immutable snapshots of what every token request reads: clients, APIs, grants.

These change rarely and are read on every request, so they live in the shared cache and are
invalidated by model signals (:mod:`oauth_token.registry.invalidation`) the moment a row
changes, in every process that shares the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from oauth_token.core import cache
from oauth_token.core.identifiers import plausible
from oauth_token.models import Api, Client, ClientGrant
from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH
from oauth_token.registry import client_metadata

_MISSING = "__missing__"
T = TypeVar("T")


@dataclass(frozen=True)
class ClientInfo:
    pk: int
    client_id: str
    name: str
    client_type: str
    auth_method: str
    secret_digest: str
    secret_sealed: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    jwks: dict[str, Any] | None
    jwks_uri: str
    first_party: bool
    can_introspect: bool
    require_dpop: bool
    require_par: bool
    is_active: bool
    extra: dict[str, Any] = field(default_factory=dict)
    # Per-client lifetimes (seconds); None falls back to the API, then the settings.
    access_token_lifetime: int | None = None
    refresh_token_lifetime: int | None = None
    refresh_idle_lifetime: int | None = None
    # OIDC RP-Initiated Logout 1.0 §3.1: where /oidc/logout may send the person (exact match).
    post_logout_redirect_uris: tuple[str, ...] = ()
    # Clients whose client_id is the URL of their Client ID Metadata Document: when (epoch
    # seconds) the document is fetched again (registry/client_metadata.py). None otherwise.
    metadata_document_expires_at: float | None = None

    @property
    def is_public(self) -> bool:
        return self.client_type == "public"

    @property
    def from_metadata_document(self) -> bool:
        return self.metadata_document_expires_at is not None

    def allows_grant(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass(frozen=True)
class ApiInfo:
    pk: int
    identifier: str
    name: str
    scopes: tuple[str, ...]
    scope_descriptions: dict[str, str]
    access_token_lifetime: int
    signing_alg: str
    allow_offline_access: bool
    rbac: bool = False
    permissions_in_token: bool = False


def client_cache_key(client_id: str) -> str:
    return cache.key("client", client_id)


def api_cache_key(identifier: str) -> str:
    return cache.key("api", identifier)


def grant_cache_key(client_id: str, identifier: str) -> str:
    return cache.key("grant", client_id, identifier)


def client_snapshot(client: Any) -> ClientInfo:
    return ClientInfo(
        pk=client.pk,
        client_id=client.client_id,
        name=client.name,
        client_type=client.client_type,
        auth_method=client.token_endpoint_auth_method,
        secret_digest=client.secret_digest,
        secret_sealed=client.secret_sealed,
        grant_types=tuple(client.grant_types or ()),
        redirect_uris=tuple(client.redirect_uris or ()),
        jwks=client.jwks,
        jwks_uri=client.jwks_uri,
        first_party=client.first_party,
        can_introspect=client.can_introspect,
        require_dpop=client.require_dpop,
        require_par=client.require_par,
        is_active=client.is_active,
        extra=_client_extra(client),
        access_token_lifetime=client.access_token_lifetime,
        refresh_token_lifetime=client.refresh_token_lifetime,
        refresh_idle_lifetime=client.refresh_idle_lifetime,
        post_logout_redirect_uris=tuple(client.post_logout_redirect_uris or ()),
        metadata_document_expires_at=(
            client.metadata_document_expires_at.timestamp()
            if client.metadata_document_expires_at is not None
            else None
        ),
    )


def _client_extra(client: Any) -> dict[str, Any]:
    """Fields later features add to Client, copied without changing this dataclass."""
    names = ("exchange_audiences", "trusted_issuers")
    return {n: getattr(client, n) for n in names if hasattr(client, n)}


def _through_shared_cache(
    key: str, kind: type[T], load: Callable[[], T | None], miss_timeout: int | None = None
) -> T | None:
    """The snapshot at ``key`` in the shared cache, else ``load()`` from the database, cached
    (a miss too, as a marker, so unknown ids do not reach the database on every request)."""
    hit = cache.get_copy(key)
    if hit == _MISSING:
        return None
    if isinstance(hit, kind):
        return hit
    value = load()
    if value is None:
        cache.set_copy(key, _MISSING, miss_timeout)
    else:
        cache.set_copy(key, value)
    return value


def get_client(client_id: str) -> ClientInfo | None:
    """The active client with this id, or None; unknown ids are cached too (briefly). A
    client_id that is a Client ID Metadata Document URL is resolved by :func:`_documented`."""
    if not plausible(client_id, CLIENT_ID_MAX_LENGTH):
        return None
    result: ClientInfo | None = cache.memoized(
        ("client", client_id),
        lambda: _through_shared_cache(
            client_cache_key(client_id), ClientInfo, lambda: _client_row(client_id), 60
        ),
    )
    if result is not None and result.metadata_document_expires_at is None:
        return result
    if not client_id.startswith(client_metadata.SCHEME_PREFIX):
        return result
    return _documented(client_id, result)


def _documented(client_id: str, cached: ClientInfo | None) -> ClientInfo | None:
    """A metadata-document client: the cached snapshot while its document is fresh, else the
    document fetched again (draft-ietf-oauth-client-id-metadata-document §5.2); nobody once
    CLIENT_ID_METADATA_DOCUMENTS is off, even for rows created while it was on."""
    if not client_metadata.enabled() or not client_metadata.is_client_id_url(client_id):
        return None
    expires_at = cached.metadata_document_expires_at if cached is not None else None
    if cached is not None and expires_at is not None and time.time() < expires_at:
        return cached
    row = client_metadata.refresh(client_id)
    if row is None or not row.is_active:
        return None
    return client_snapshot(row)


def _client_row(client_id: str) -> ClientInfo | None:
    row = Client.objects.filter(client_id=client_id, is_active=True).first()
    return client_snapshot(row) if row is not None else None


def get_api(identifier: str) -> ApiInfo | None:
    if not plausible(identifier, 255):
        return None
    result: ApiInfo | None = cache.memoized(
        ("api", identifier),
        lambda: _through_shared_cache(
            api_cache_key(identifier), ApiInfo, lambda: _api_row(identifier), 60
        ),
    )
    return result


def _api_row(identifier: str) -> ApiInfo | None:
    row = Api.objects.filter(identifier=identifier).first()
    if row is None:
        return None
    scopes = list(row.scopes.values_list("name", "description"))
    return ApiInfo(
        pk=row.pk,
        identifier=row.identifier,
        name=row.name,
        scopes=tuple(name for name, _ in scopes),
        scope_descriptions=dict(scopes),
        access_token_lifetime=row.access_token_lifetime,
        signing_alg=row.signing_alg,
        allow_offline_access=row.allow_offline_access,
        rbac=row.rbac,
        permissions_in_token=row.permissions_in_token,
    )


def get_granted_scopes(client_id: str, identifier: str) -> frozenset[str] | None:
    """Scopes a client may request for an API via client_credentials; None if no grant."""
    result: frozenset[str] | None = cache.memoized(
        ("grant", client_id, identifier),
        lambda: _through_shared_cache(
            grant_cache_key(client_id, identifier),
            frozenset,
            lambda: _grant_row(client_id, identifier),
        ),
    )
    return result


def _grant_row(client_id: str, identifier: str) -> frozenset[str] | None:
    row = (
        ClientGrant.objects.filter(client__client_id=client_id, api__identifier=identifier)
        .values_list("scopes", flat=True)
        .first()
    )
    return None if row is None else frozenset(row or ())
