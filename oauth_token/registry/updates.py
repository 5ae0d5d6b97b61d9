"""Changing a registered client or API in place (``oauth_client update``, ``oauth_api update``).

DESIGN.md's command-line contract: an option given replaces the stored value (a list option
replaces the whole list) and one not given leaves it unchanged, so a change is a mapping of
field names to new values. The result must satisfy the same rules as a creation, checked on the
merged values before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from oauth_token.models import Api, ApiScope, Client, ClientGrant
from oauth_token.registry import roles
from oauth_token.registry.provisioning import (
    CreatedClient,
    ensure_secret,
    validate_client_settings,
    validate_scope_name,
)

CLIENT_FIELDS = frozenset(
    {
        "name",
        "grant_types",
        "redirect_uris",
        "token_endpoint_auth_method",
        "jwks",
        "jwks_uri",
        "first_party",
        "can_introspect",
        "require_dpop",
        "require_par",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "backchannel_logout_session_required",
        "revoke_refresh_tokens_on_logout",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "refresh_idle_lifetime",
    }
)
API_FIELDS = frozenset(
    {"name", "access_token_lifetime", "allow_offline_access", "rbac", "permissions_in_token"}
)


def update_client(client: Client, changes: Mapping[str, Any]) -> CreatedClient:
    """Apply ``changes`` (field name → value) to ``client``. A new auth method that needs a
    secret the client lacks gets one, returned to be shown once; a method without a secret
    drops the stored one (RFC 7591 §2: the method decides what the client authenticates with)."""
    unknown = sorted(set(changes) - CLIENT_FIELDS)
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(unknown)} of a client.")
    missing = [f for f in changes if not hasattr(client, f)]
    if missing:
        raise ValidationError(f"This installation's clients have no {', '.join(missing)}.")
    for name, value in changes.items():
        setattr(client, name, value)
    if changes.get("jwks"):
        client.jwks_uri = ""
    if changes.get("jwks_uri"):
        client.jwks = None
    validate_client_settings(
        client_type=client.client_type,
        auth_method=client.token_endpoint_auth_method,
        grant_types=list(client.grant_types or []),
        redirect_uris=list(client.redirect_uris or []),
        jwks=client.jwks,
        jwks_uri=client.jwks_uri or "",
        post_logout_redirect_uris=list(client.post_logout_redirect_uris or []),
        backchannel_logout_uri=client.backchannel_logout_uri or "",
    )
    secret = ensure_secret(client)
    client.full_clean()
    client.save()
    return CreatedClient(client, secret)


def update_api(api: Api, changes: Mapping[str, Any], scopes: Iterable[str] | None = None) -> Api:
    """Apply ``changes`` to ``api``; ``scopes``, when given, replaces its scope list. A scope
    removed is also removed from the client grants (and role permissions) that named it, as
    Auth0 does, so nothing keeps granting a scope the API no longer defines."""
    unknown = sorted(set(changes) - API_FIELDS)
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(unknown)} of an API.")
    for name, value in changes.items():
        setattr(api, name, value)
    wanted = list(dict.fromkeys(scopes)) if scopes is not None else None
    for scope in wanted or ():
        validate_scope_name(scope)
    api.full_clean()
    with transaction.atomic():
        api.save()
        if wanted is not None:
            _replace_scopes(api, wanted)
    return api


def _replace_scopes(api: Api, wanted: list[str]) -> None:
    current = set(api.scopes.values_list("name", flat=True))
    removed = current - set(wanted)
    for row in api.scopes.filter(name__in=removed):
        row.delete()  # one by one, so each sends the signals that invalidate snapshots
    for name in wanted:
        if name not in current:
            ApiScope.objects.create(api=api, name=name)
    if not removed:
        return
    roles.prune_removed_scopes(api, removed)
    for grant in ClientGrant.objects.filter(api=api):
        kept = [s for s in grant.scopes or () if s not in removed]
        if kept != list(grant.scopes or ()):
            grant.scopes = kept
            grant.save(update_fields=["scopes"])
