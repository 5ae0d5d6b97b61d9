"""The change generation kept in the database, for deployments whose cache is process-local.

Every process memoises clients, APIs, grants and the key set (``core/cache.py``) and drops its
memo when the *change generation* moves. With a shared cache (Redis) the generation lives
there. With Django's default local-memory cache each process has its own cache, so a change
made elsewhere (``oauth_client rotate-secret`` from a shell, the admin in another worker,
``quickstart --no-serve`` beside a running server) could never reach it; the generation then
lives in this one-row table instead: bumped in the same transaction as the change, read with
one primary-key SELECT per request.
"""

from __future__ import annotations

from django.db import connection, models

ROW = 1
# The read statement per database vendor (quoting differs), built on first use.
_READ: dict[str, str] = {}


class ChangeGeneration(models.Model):
    """One row (``id = 1``); ``value`` grows by one with every change to a memoised row."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "change generation"

    def __str__(self) -> str:
        return f"change generation {self.value}"

    @classmethod
    def read(cls) -> int:
        """The current value; an absent row (a flushed table) is 0. A raw SELECT: it runs on
        every token request, and compiling an ORM query would cost more than the round trip.
        The statement has no parameters (the row id is this module's constant), so SQLite's
        cursor wrapper has no placeholder to rewrite on each call."""
        sql = _READ.get(connection.vendor)
        if sql is None:
            table = connection.ops.quote_name(cls._meta.db_table)
            sql = _READ[connection.vendor] = f"SELECT value FROM {table} WHERE id = {ROW:d}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    @classmethod
    def bump(cls) -> None:
        """Move the generation on, in the caller's transaction (so it commits with the change
        it announces, and a rolled-back change announces nothing)."""
        if not cls.objects.filter(pk=ROW).update(value=models.F("value") + 1):
            cls.objects.get_or_create(pk=ROW, defaults={"value": 1})
