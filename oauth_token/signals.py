"""Invalidate cached lookups the moment a row changes, now and again after commit.

Deleting twice closes the window in which a concurrent request reads the old row before our
transaction commits and caches it again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import cache, lookups
from .models import Api, ApiScope, Client, ClientGrant, SigningKey


def _invalidate(*keys: str) -> None:
    cache.delete(*keys)
    cache.bump_generation()

    def after_commit() -> None:
        cache.delete(*keys)
        cache.bump_generation()

    transaction.on_commit(after_commit)


@receiver([post_save, post_delete], sender=Client)
def _client_changed(instance: Client, **kwargs: Any) -> None:
    _invalidate(lookups.client_cache_key(instance.client_id))


@receiver([post_save, post_delete], sender=ClientGrant)
def _grant_changed(instance: ClientGrant, **kwargs: Any) -> None:
    client_id = Client.objects.filter(pk=instance.client_id).values_list("client_id", flat=True)
    identifier = Api.objects.filter(pk=instance.api_id).values_list("identifier", flat=True)
    keys = [lookups.grant_cache_key(c, i) for c in client_id for i in identifier]
    if keys:
        _invalidate(*keys)


@receiver([post_save, post_delete], sender=Api)
def _api_changed(instance: Api, **kwargs: Any) -> None:
    _invalidate(lookups.api_cache_key(instance.identifier))


@receiver([post_save, post_delete], sender=ApiScope)
def _scope_changed(instance: ApiScope, **kwargs: Any) -> None:
    identifier = Api.objects.filter(pk=instance.api_id).values_list("identifier", flat=True).first()
    if identifier:
        _invalidate(lookups.api_cache_key(identifier))


@receiver([post_save, post_delete], sender=SigningKey)
def _key_changed(instance: SigningKey, **kwargs: Any) -> None:
    from . import keyring

    _invalidate(keyring.KEYSET_CACHE_KEY())


@receiver(pre_delete, sender=Client)
def _client_deleted(instance: Client, **kwargs: Any) -> None:
    """Deleting a client deletes its refresh-token families; revoke them first so the access
    tokens they issued are denylisted rather than forgotten (RFC 7009 §2.1)."""
    from . import refresh_tokens

    refresh_tokens.revoke_families("client deleted", client=instance)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def _user_deleted(instance: Any, **kwargs: Any) -> None:
    from . import refresh_tokens

    refresh_tokens.revoke_families("user deleted", user=instance)
