"""Showing a new client secret exactly once, with Post/Redirect/Get.

The POST that creates or rotates a secret redirects to a one-time URL; a reload of that POST
cannot create a second client or rotate again, and a reload of the page that shows the secret
finds it gone. Between the two requests the secrets wait at most ``LIFETIME`` seconds in the
shared cache, sealed (AES-GCM) under a key derived from a random token that exists only in the
redirect URL, and bound to the staff user who made them: the cache alone cannot reveal a
secret, and the URL alone is useless to anyone else or after one use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from oauth_token.core import cache, jose, secrets

LIFETIME = 300


@dataclass(frozen=True)
class ShownSecret:
    client_pk: int
    secret: str


def _keys(token: str) -> tuple[str, str]:
    digest = secrets.digest(token)
    return cache.key("admin-secret", digest), cache.key("admin-secret-seen", digest)


def _binding(request: HttpRequest) -> bytes:
    return f"admin-secret:{request.user.pk}".encode()


def stash(request: HttpRequest, shown: list[tuple[Any, str]]) -> str:
    """Keep ``(client, secret)`` pairs for one later page; returns the token for its URL."""
    token = secrets.new_secret()
    payload = json.dumps([[client.pk, secret] for client, secret in shown]).encode()
    sealed = jose.seal(payload, token, aad=_binding(request))
    stored, _seen = _keys(token)
    cache.shared_cache().set(stored, sealed, LIFETIME)
    return token


def take(request: HttpRequest, token: str) -> list[ShownSecret] | None:
    """The secrets once, to the user who made them; None when used, expired or not theirs."""
    stored, seen = _keys(token)
    store = cache.shared_cache()
    sealed = store.get(stored)
    if not isinstance(sealed, str):
        return None
    try:
        payload = jose.unseal(sealed, [token], aad=_binding(request))
    except jose.JoseError:
        return None
    if not store.add(seen, 1, LIFETIME):  # a concurrent reload got there first
        return None
    store.delete(stored)
    return [ShownSecret(int(pk), str(secret)) for pk, secret in json.loads(payload)]
