"""``manage.py check --deploy``: the lines of README's "Production checklist" that settings or
the database can show, each as a warning with the checklist's advice as its hint.

Several workers with a process-local cache is ``oauth_token.W080`` in :mod:`oauth_token.checks`
(a plain check: it matters before deployment too); a signing key or client secret still sealed
under an old key-encryption key is ``oauth_token.W130`` there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.checks import Warning
from django.db import DatabaseError
from django.utils import timezone

from oauth_token.conf import oauth_settings
from oauth_token.tokens import cleanup

# Rows expired longer ago than this mean `oauth_cleanup` is not scheduled (hourly is advised).
CLEANUP_OVERDUE = timedelta(days=1)


def _database_warnings() -> list[Any]:
    warnings: list[Any] = []
    for alias, db in settings.DATABASES.items():
        engine = str(db.get("ENGINE", ""))
        if engine.endswith("sqlite3"):
            warnings.append(
                Warning(
                    f"DATABASES[{alias!r}] is SQLite: one host, and writers wait for each other.",
                    hint="Use PostgreSQL (extra `postgres`) once there are several workers.",
                    id="oauth_token.W131",
                )
            )
        elif engine.endswith("postgresql") and not _pooled(db):
            warnings.append(
                Warning(
                    f"DATABASES[{alias!r}] opens a new PostgreSQL connection for every request.",
                    hint="Set OPTIONS['pool'] (psycopg's pool), or CONN_MAX_AGE with "
                    "CONN_HEALTH_CHECKS, or put PgBouncer in front and silence this warning.",
                    id="oauth_token.W132",
                )
            )
    return warnings


def _pooled(db: dict[str, Any]) -> bool:
    options = db.get("OPTIONS") or {}
    max_age = db.get("CONN_MAX_AGE", 0)
    return bool(options.get("pool")) or max_age is None or (max_age or 0) > 0


def _cache_warnings() -> list[Any]:
    """An unresponsive Redis without timeouts hangs every worker on its first cache read."""
    config: Any = settings.CACHES.get(oauth_settings.CACHE_ALIAS) or {}
    if not str(config.get("BACKEND", "")).endswith("RedisCache"):
        return []
    options: Any = config.get("OPTIONS") or {}
    if "socket_timeout" in options and "socket_connect_timeout" in options:
        return []
    return [
        Warning(
            "The Redis cache has no socket timeouts: an unresponsive Redis would hang workers.",
            hint="CACHES[...]['OPTIONS'] = {'socket_connect_timeout': 1, 'socket_timeout': 1}",
            id="oauth_token.W133",
        )
    ]


def _cleanup_warnings() -> list[Any]:
    cutoff = timezone.now() - CLEANUP_OVERDUE
    try:
        overdue = [t.name for t in cleanup.TARGETS if t.expired(cutoff).exists()]
    except DatabaseError:
        return []
    if not overdue:
        return []
    return [
        Warning(
            f"Rows expired more than a day ago are still stored ({', '.join(overdue)}).",
            hint="Schedule `manage.py oauth_cleanup` (e.g. hourly, from cron or a systemd timer).",
            id="oauth_token.W134",
        )
    ]


def _secret_warnings() -> list[Any]:
    kek = oauth_settings.KEY_ENCRYPTION_KEY
    if not kek or str(kek) != str(settings.SECRET_KEY):
        return []
    return [
        Warning(
            "KEY_ENCRYPTION_KEY is SECRET_KEY: rotating one would make every signing key "
            "undecryptable.",
            hint="Give the key-encryption key its own secret; change it with "
            "OLD_KEY_ENCRYPTION_KEYS and `manage.py oauth_keys reseal`.",
            id="oauth_token.W135",
        )
    ]


def _outbound_warnings() -> list[Any]:
    """draft-ietf-oauth-client-id-metadata-document, SSRF: with metadata documents on, anyone
    chooses URLs this server fetches, so loopback and private addresses must stay refused."""
    if not (
        oauth_settings.CLIENT_ID_METADATA_DOCUMENTS
        and oauth_settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES
    ):
        return []
    return [
        Warning(
            "CLIENT_ID_METADATA_DOCUMENTS with OUTBOUND_ALLOW_PRIVATE_ADDRESSES: any client_id "
            "can make this server request addresses inside its network.",
            hint="Turn OUTBOUND_ALLOW_PRIVATE_ADDRESSES off in production.",
            id="oauth_token.W136",
        )
    ]


def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    return (
        _database_warnings()
        + _cache_warnings()
        + _cleanup_warnings()
        + _secret_warnings()
        + _outbound_warnings()
    )


# Registered by AppConfig.ready with deploy=True.
DEPLOY_CHECKS = (check_deployment,)
