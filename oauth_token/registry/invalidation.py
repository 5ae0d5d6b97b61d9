"""Invalidate cached snapshots the moment a row changes, now and again after commit.

Deleting twice closes the window in which a concurrent request reads the old row before our
transaction commits and caches it again.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from oauth_token.core import cache
from oauth_token.models import Api, ApiScope, Client, ClientGrant, SigningKey
from oauth_token.registry import keyring, snapshots


def _invalidate(*keys: str) -> None:
    cache.delete(*keys)
    cache.bump_generation()

    def after_commit() -> None:
        cache.delete(*keys)
        cache.bump_generation()

    transaction.on_commit(after_commit)


def forget_client(instance: Client, **kwargs: Any) -> None:
    _invalidate(snapshots.client_cache_key(instance.client_id))


def forget_client_grant(instance: ClientGrant, **kwargs: Any) -> None:
    client_id = Client.objects.filter(pk=instance.client_id).values_list("client_id", flat=True)
    identifier = Api.objects.filter(pk=instance.api_id).values_list("identifier", flat=True)
    keys = [snapshots.grant_cache_key(c, i) for c in client_id for i in identifier]
    if keys:
        _invalidate(*keys)


def forget_api(instance: Api, **kwargs: Any) -> None:
    _invalidate(snapshots.api_cache_key(instance.identifier))


def forget_api_scope(instance: ApiScope, **kwargs: Any) -> None:
    identifier = Api.objects.filter(pk=instance.api_id).values_list("identifier", flat=True).first()
    if identifier:
        _invalidate(snapshots.api_cache_key(identifier))


def forget_key_set(instance: SigningKey, **kwargs: Any) -> None:
    _invalidate(keyring.KEYSET_CACHE_KEY())


def connect() -> None:
    """Connect the receivers above to the model signals (called from ``AppConfig.ready``)."""
    for sender, receiver in (
        (Client, forget_client),
        (ClientGrant, forget_client_grant),
        (Api, forget_api),
        (ApiScope, forget_api_scope),
        (SigningKey, forget_key_set),
    ):
        for signal in (post_save, post_delete):
            signal.connect(receiver, sender=sender, dispatch_uid=f"oauth_token.{receiver.__name__}")
