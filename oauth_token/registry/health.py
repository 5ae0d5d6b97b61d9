"""Readiness of this process for a load balancer: can it reach the database and the shared
cache, and can it open a current signing key (a wrong key-encryption key would otherwise turn
every token request into an error)?

Each probe answers a fixed word (``ok``, ``unavailable``, ``missing``, ``undecryptable``):
never an exception text, key id or setting, since the answer is unauthenticated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, connection

from oauth_token.conf import oauth_settings
from oauth_token.core import cache, jose, secrets
from oauth_token.errors import ConfigurationError
from oauth_token.models import SigningKey
from oauth_token.models.keys import KeyState
from oauth_token.registry.sealing import encryption_keys

logger = logging.getLogger("oauth_token")

OK = "ok"


@dataclass(frozen=True)
class Health:
    database: str
    cache: str
    signing_key: str

    @property
    def healthy(self) -> bool:
        return self.database == self.cache == self.signing_key == OK

    def as_dict(self) -> dict[str, object]:
        return {
            "status": OK if self.healthy else "unavailable",
            "checks": {
                "database": self.database,
                "cache": self.cache,
                "signing_key": self.signing_key,
            },
        }


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("oauth_token health: database unavailable (%s)", type(exc).__name__)
        return "unavailable"
    return OK


def _cache() -> str:
    """A write and a read of a fresh key: a read alone passes against a Redis that refuses
    writes (read-only replica, out of memory), which would break every replay check."""
    probe = secrets.new_identifier(12)
    name = cache.key("health", probe)
    try:
        backend = cache.shared_cache()
        backend.set(name, probe, 10)
        ok = backend.get(name) == probe
        backend.delete(name)
    except Exception as exc:  # any backend's connection error (redis, memcached, ...)
        logger.warning("oauth_token health: cache unavailable (%s)", type(exc).__name__)
        return "unavailable"
    return OK if ok else "unavailable"


def _signing_key() -> str:
    """The current key of each algorithm that signs by default opens under the configured
    key-encryption keys (read from the database, not from a process's memo)."""
    algs = {oauth_settings.DEFAULT_SIGNING_ALGORITHM, oauth_settings.ID_TOKEN_SIGNING_ALGORITHM}
    try:
        keys = list(
            SigningKey.objects.filter(state=KeyState.CURRENT, alg__in=algs).values_list(
                "kid", "alg", "private_key_sealed"
            )
        )
        if {alg for _, alg, _ in keys} != algs:
            return "missing"
        keks = encryption_keys()
        for kid, _, sealed in keys:
            jose.unseal(sealed, keks, aad=kid.encode())
    except DatabaseError:
        return "unavailable"
    except (ConfigurationError, jose.JoseError):
        logger.warning("oauth_token health: a current signing key cannot be decrypted")
        return "undecryptable"
    return OK


def check() -> Health:
    return Health(database=_database(), cache=_cache(), signing_key=_signing_key())
