"""Roles and what they grant (RBAC as Auth0 does it), shared by ``oauth_role``, the admin and
the token pipeline.

An API with RBAC on limits what a user can be granted on it to the union of the permissions of
the user's roles for that API (assigned directly or through a Django group): the grantable
scopes are the requested ones intersected with those permissions. Scopes the API does not
define (``openid``, ``profile``, ``offline_access``, ...) are not permissions and pass through,
as in Auth0. Client-credentials tokens have no user and stay limited by the client grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Q

from oauth_token.models import Api, Role
from oauth_token.registry.snapshots import ApiInfo


def get_role(name: str) -> Role:
    role = Role.objects.select_related("api").filter(name=name).first()
    if role is None:
        raise LookupError(f"No role named {name!r}.")
    return role


def get_user(username: str) -> Any:
    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    if user is None:
        raise LookupError(f"No user {username!r}.")
    return user


def get_group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        raise LookupError(f"No group {name!r}.")
    return group


def validate_permissions(api: Api, permissions: Iterable[str]) -> list[str]:
    """A role's permissions are scopes its API defines; anything else is refused."""
    wanted = list(dict.fromkeys(permissions))
    known = set(api.scopes.values_list("name", flat=True))
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise ValidationError(f"API {api.identifier} has no scope(s): {', '.join(unknown)}.")
    return sorted(wanted)


def create_role(
    *, name: str, api: Api, permissions: Sequence[str] = (), description: str = ""
) -> Role:
    role = Role(
        name=name,
        api=api,
        permissions=validate_permissions(api, permissions),
        description=description,
    )
    role.full_clean()
    role.save()
    return role


def assign(role: Role, *, user: Any = None, group: Group | None = None) -> None:
    if user is not None:
        role.users.add(user)
    if group is not None:
        role.groups.add(group)


def unassign(role: Role, *, user: Any = None, group: Group | None = None) -> None:
    if user is not None:
        role.users.remove(user)
    if group is not None:
        role.groups.remove(group)


def _roles_of(user: Any) -> Any:
    return Role.objects.filter(Q(users=user) | Q(groups__user=user)).distinct()


def user_permissions(user: Any, api_pk: int) -> frozenset[str]:
    """The permissions of every role ``user`` holds on the API (one query)."""
    if user is None or getattr(user, "pk", None) is None:
        return frozenset()
    rows = _roles_of(user).filter(api_id=api_pk).values_list("permissions", flat=True)
    return frozenset(p for permissions in rows for p in permissions or ())


def effective_permissions(user: Any) -> dict[str, list[str]]:
    """API identifier → the user's permissions on it, for the admin and ``oauth_role``."""
    result: dict[str, set[str]] = {}
    for identifier, permissions in _roles_of(user).values_list("api__identifier", "permissions"):
        result.setdefault(identifier, set()).update(permissions or ())
    return {identifier: sorted(p) for identifier, p in sorted(result.items())}


def grantable(user: Any, api: ApiInfo | None, scopes: Sequence[str]) -> tuple[str, ...]:
    """``scopes`` limited by RBAC for ``user`` (what the consent page may show)."""
    held = held_permissions(user, api)
    return tuple(scopes) if held is None else limit(api, scopes, held)


def prune_removed_scopes(api: Api, removed: Iterable[str]) -> None:
    """An API scope removed is no longer a permission of any role (as Auth0 does)."""
    gone = set(removed)
    for role in Role.objects.filter(api=api):
        kept = [p for p in role.permissions or () if p not in gone]
        if kept != list(role.permissions or ()):
            role.permissions = kept
            role.save(update_fields=["permissions", "updated_at"])


def held_permissions(user: Any, api: ApiInfo | None) -> frozenset[str] | None:
    """The user's permissions on ``api`` when RBAC limits this grant, else None (no RBAC on
    the API, or no user: a client acting for itself is limited by its client grant)."""
    if api is None or not api.rbac or user is None:
        return None
    return user_permissions(user, api.pk)


def limit(api: ApiInfo | None, scopes: Sequence[str], held: frozenset[str]) -> tuple[str, ...]:
    """The requested scopes a user may be granted: the API's scopes only where held, others
    (OpenID Connect scopes, ``offline_access``) unchanged."""
    defined = set(api.scopes) if api is not None else set()
    return tuple(s for s in scopes if s not in defined or s in held)


def permissions_claim(
    user: Any, api: ApiInfo | None, scopes: Sequence[str], held: frozenset[str] | None
) -> list[str] | None:
    """Auth0's ``permissions`` claim, for an API with RBAC and permissions in the token: all
    of the user's permissions on it, or for a client acting for itself the API scopes it was
    granted. None when the token carries no such claim."""
    if api is None or not (api.rbac and api.permissions_in_token):
        return None
    if user is None:
        return sorted(s for s in scopes if s in set(api.scopes))
    return sorted(held or ())
