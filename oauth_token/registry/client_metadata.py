"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document).

A client may use the URL of a JSON document that describes it as its ``client_id``. With
``CLIENT_ID_METADATA_DOCUMENTS`` on, this server fetches the document the first time it meets
the URL, and again whenever its copy goes stale, instead of requiring a registration:

- Only a Client Identifier URL (§3) is fetched: https, a host, a path, no userinfo, no
  fragment, no dot segments, at most ``CLIENT_ID_MAX_LENGTH`` characters. Any other
  ``client_id`` is looked up as usual (and a URL never matches an id this server generates).
- The fetch is :mod:`oauth_token.core.outbound`'s: public addresses only, no redirects (§5), a
  total deadline, and at most ``CLIENT_ID_METADATA_DOCUMENT_MAX_BYTES`` (the draft's Security
  Considerations recommend 5 KB); only a 200 with a JSON object counts.
- The document's ``client_id`` must be this very URL, by simple string comparison (§4); it must
  carry no shared secret (``client_secret``, ``client_secret_expires_at``, a symmetric
  ``token_endpoint_auth_method``) nor private key material (§4.1). The rest is RFC 7591
  metadata, read by the same parser as dynamic registration (``registration.parse_metadata``)
  and so checked by ``provisioning`` like every client: redirect URIs (https, or http on a
  loopback address), grant and response types.
- Such a client is public (``token_endpoint_auth_method`` ``none``, hence PKCE), may use
  ``authorization_code`` and ``refresh_token`` only, is never first-party, and the person is
  asked for consent on every authorization, shown its ``client_name`` and the URL's host.
- Each document is one ``Client`` row (consents, refresh tokens and audit events refer to it),
  refreshed once stale: freshness follows the response's ``Cache-Control``/``Expires`` (§5.2),
  bounded by ``CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS`` and ``..._MAX_CACHE_SECONDS``.
  A document that cannot be fetched, or is invalid, makes the client unknown
  (``invalid_client``) and is not kept (§5.2: errors and invalid documents are not cached);
  ``core.outbound`` only holds back from retrying a failed URL for
  ``OUTBOUND_FAILURE_CACHE_SECONDS``. An operator stops a client by deactivating its row.
- Fetching a document this server has no row for costs an outbound request and maybe a new
  row, and anyone can ask for it with a fresh URL. Such fetches are counted
  (``core/throttle.py``) per source IP (``CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_IP``) and
  then for the whole server (``..._FETCHES_PER_WINDOW``, so many addresses together are
  bounded too), per ``..._FETCH_WINDOW`` seconds, and refused with 429 ``too_many_attempts``
  beyond. A request refused for its address does not use up the server's allowance. Known
  clients are not counted: a fresh one is served from the cache, a stale one is refetched at
  most once per ``MIN_CACHE_SECONDS``, and their number is bounded by this very throttle.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from oauth_token.conf import oauth_settings
from oauth_token.core import outbound, throttle
from oauth_token.errors import OAuthError
from oauth_token.models import Client
from oauth_token.models.clients import CLIENT_ID_MAX_LENGTH, AuthMethod, ClientType
from oauth_token.registry import provisioning, registration

logger = logging.getLogger("oauth_token")

SCHEME_PREFIX = "https://"
# Grants that need neither a secret nor an operator's trust in the client.
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
# RFC 7591 §2 / §3.2.1 members that only a shared secret would give meaning to (§4.1).
SECRET_MEMBERS = ("client_secret", "client_secret_expires_at")
# JWK members of private keys (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_THROTTLE = "client-metadata-fetch"
_DOT_SEGMENTS = frozenset({".", "..", "%2e", "%2e%2e", ".%2e", "%2e."})


class DocumentRefused(Exception):
    """The document cannot describe this client; the reason is logged, never shown."""


def enabled() -> bool:
    return bool(oauth_settings.CLIENT_ID_METADATA_DOCUMENTS)


def is_client_id_url(value: str) -> bool:
    """§3: https, a host, a path, no userinfo, no fragment, no dot segments; a query is
    allowed (SHOULD NOT, not MUST NOT). Printable ASCII only, and short enough to store."""
    if not value.startswith(SCHEME_PREFIX) or len(value) > CLIENT_ID_MAX_LENGTH:
        return False
    if not value.isascii() or not value.isprintable() or " " in value or "#" in value:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if not parts.hostname or "@" in parts.netloc or not parts.path.startswith("/"):
        return False
    return not any(s.lower() in _DOT_SEGMENTS for s in parts.path.split("/"))


def refresh(client_id: str) -> Client | None:
    """Fetch and validate the document at ``client_id``, store it as the client's row and
    return that row; None when there is no usable document (the reason is logged) or an
    operator deactivated the client (then nothing is fetched)."""
    existing = Client.objects.filter(client_id=client_id).first()
    if existing is not None and (
        not existing.is_active or existing.metadata_document_expires_at is None
    ):
        return None
    if existing is None:
        count_fetch()
    try:
        remote = outbound.fetch_json(
            client_id, max_bytes=int(oauth_settings.CLIENT_ID_METADATA_DOCUMENT_MAX_BYTES)
        )
        metadata = parse_document(client_id, remote.document)
    except outbound.OutboundError:
        return None  # logged by outbound, with the reason
    except DocumentRefused as exc:
        logger.warning("oauth_token client metadata document %s refused: %s", client_id, exc)
        return None
    name = display_name(client_id, remote.document, metadata.name)
    expires_at = timezone.now() + timedelta(seconds=cache_lifetime(remote.headers))
    return _store(client_id, name, metadata, expires_at, existing)


def count_fetch() -> None:
    """Count the fetch of a new document against its source IP, then against the server;
    raises TooManyAttempts (429, ``Retry-After``) over either limit. Two attempts, so that
    an address already refused does not go on spending everyone's allowance; outside a
    request (no source address) only the server's count applies."""
    window = int(oauth_settings.CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW)
    ip = throttle.source_ip()
    if ip is not None:
        limit = int(oauth_settings.CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_IP)
        per_ip = throttle.Counter(_THROTTLE, "ip", ip, limit, window)
        throttle.attempt([per_ip], lambda _c: "Too many new client_id URLs from this address.")
    limit = int(oauth_settings.CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_WINDOW)
    server = throttle.Counter(_THROTTLE, "server", "all", limit, window)
    throttle.attempt([server], lambda _c: "Too many new client_id URLs; try later.")


def cache_lifetime(headers: Mapping[str, str]) -> int:
    """Seconds the document stays fresh: what its headers say (§5.2, RFC 9111), held between
    the MIN and MAX settings; the minimum when the headers say nothing or forbid caching. At
    least one second, so that the several lookups of one request share one fetch."""
    low = max(1, int(oauth_settings.CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS))
    high = int(oauth_settings.CLIENT_ID_METADATA_DOCUMENT_MAX_CACHE_SECONDS)
    return min(max(outbound.freshness_lifetime(headers) or 0, low), high)


def parse_document(client_id: str, document: Mapping[str, Any]) -> registration.ClientMetadata:
    """The checks of §4 and §4.1 that are particular to documents, then RFC 7591 metadata
    through the registration parser (and so through provisioning); raises DocumentRefused."""
    if document.get("client_id") != client_id:
        raise DocumentRefused("its client_id is not the URL it was fetched from")
    present = [m for m in SECRET_MEMBERS if m in document]
    if present:
        raise DocumentRefused(f"it carries {present[0]} (no shared secrets, §4.1)")
    method = document.get("token_endpoint_auth_method", AuthMethod.NONE.value)
    if method != AuthMethod.NONE:
        raise DocumentRefused(
            f"token_endpoint_auth_method {str(method)[:40]!r}: only 'none' is accepted"
        )
    _refuse_private_keys(document.get("jwks"))
    try:
        metadata = registration.parse_metadata(dict(document))
    except OAuthError as exc:
        raise DocumentRefused(f"{exc.error}: {exc.description}") from exc
    other = sorted(set(metadata.grant_types) - GRANT_TYPES)
    if other:
        raise DocumentRefused(f"grant_types {other[0][:60]!r}: only {sorted(GRANT_TYPES)}")
    if metadata.client_type != ClientType.PUBLIC:
        raise DocumentRefused("not a public client")
    return metadata


def _refuse_private_keys(jwks: Any) -> None:
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if isinstance(keys, list) and any(
        isinstance(k, Mapping) and PRIVATE_JWK_MEMBERS & set(k) for k in keys
    ):
        raise DocumentRefused("its jwks holds private key material (§4.1)")


def display_name(client_id: str, document: Mapping[str, Any], parsed_name: str) -> str:
    """``client_name`` when the document has one, else the URL's host."""
    name = document.get("client_name")
    if isinstance(name, str) and name.strip():
        return parsed_name
    return urlsplit(client_id).hostname or client_id


def _store(
    client_id: str,
    name: str,
    metadata: registration.ClientMetadata,
    expires_at: Any,
    existing: Client | None,
) -> Client | None:
    """One row per document, created on first sight and updated on each refresh (saving it
    drops every cached snapshot of it, registry/invalidation.py). Two workers creating the
    same row at once: the one that loses reads the winner's."""
    client = existing or Client(client_id=client_id)
    client.name = name
    client.client_type = ClientType.PUBLIC
    client.token_endpoint_auth_method = AuthMethod.NONE
    client.grant_types = list(metadata.grant_types)
    client.redirect_uris = list(metadata.redirect_uris)
    # RP-Initiated Logout §3.1, validated like redirect URIs; back-channel logout URIs are
    # not taken from documents (the server would POST to any URL a stranger names).
    client.post_logout_redirect_uris = list(metadata.logout.post_logout_redirect_uris)
    client.jwks, client.jwks_uri = None, ""
    client.first_party = client.can_introspect = False
    client.secret_digest = client.secret_sealed = ""
    client.metadata_document_expires_at = expires_at
    client.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        return Client.objects.filter(client_id=client_id, is_active=True).first()
    if existing is None:
        provisioning.announce_client(client, "metadata_document")
    return client
