"""The JSON shapes the commands print (README.md, "Command reference"). Never a secret
digest, sealed value or private key: a client secret appears only where a command creates it."""

from __future__ import annotations

from typing import Any

from oauth_token.models import Api, Client, Role, SigningKey


def iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def key_row(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key.state,
        "created_at": iso(key.created_at),
        "activated_at": iso(key.activated_at),
        "retired_at": iso(key.retired_at),
        "revoked_at": iso(key.revoked_at),
    }


def api_row(api: Api) -> dict[str, Any]:
    return {
        "identifier": api.identifier,
        "name": api.name,
        "scopes": [s.name for s in api.scopes.all()],
        "token_lifetime": api.access_token_lifetime,
        "signing_alg": api.signing_alg,
        "allow_offline_access": api.allow_offline_access,
        "rbac": api.rbac,
        "permissions_in_token": api.permissions_in_token,
        "created_at": iso(api.created_at),
    }


def client_row(client: Client, *, with_grants: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "client_id": client.client_id,
        "name": client.name,
        "type": client.client_type,
        "auth_method": client.token_endpoint_auth_method,
        "grant_types": list(client.grant_types or []),
        "redirect_uris": list(client.redirect_uris or []),
        "jwks": client.jwks,
        "jwks_uri": client.jwks_uri or None,
        "first_party": client.first_party,
        "can_introspect": client.can_introspect,
        "require_dpop": client.require_dpop,
        "require_par": client.require_par,
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
        "backchannel_logout_uri": client.backchannel_logout_uri or None,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "revoke_refresh_tokens_on_logout": client.revoke_refresh_tokens_on_logout,
        "is_active": client.is_active,
        "access_token_lifetime": client.access_token_lifetime,
        "refresh_token_lifetime": client.refresh_token_lifetime,
        "refresh_idle_lifetime": client.refresh_idle_lifetime,
        "created_at": iso(client.created_at),
        "updated_at": iso(client.updated_at),
    }
    if with_grants:
        row["grants"] = [
            {"audience": g.api.identifier, "scopes": list(g.scopes)}
            for g in client.client_grants.select_related("api").order_by("api__identifier")
        ]
    return row


def role_row(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "api": role.api.identifier,
        "permissions": list(role.permissions or []),
        "users": sorted(u.get_username() for u in role.users.all()),
        "groups": sorted(g.name for g in role.groups.all()),
        "created_at": iso(role.created_at),
    }
