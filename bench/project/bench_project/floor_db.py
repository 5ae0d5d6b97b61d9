"""The database floor of the write scenarios: the least database work a correct server must
do to redeem a single-use artefact (an authorization code, a refresh token) — one conditional
UPDATE consuming it and one INSERT of what replaces it, in one transaction — on the same
database as the contenders, through Django's connection (the same driver and settings)."""

from __future__ import annotations

import hashlib

from django.db import connection, transaction
from django.utils import timezone

ARTEFACTS = "bench_floor_artefact"
ISSUED = "bench_floor_issued"


def create_tables() -> None:
    serial = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
    stamp = "TIMESTAMP WITH TIME ZONE" if connection.vendor == "postgresql" else "TIMESTAMP"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ARTEFACTS} (id {serial} PRIMARY KEY, "
            f"digest VARCHAR(64) NOT NULL UNIQUE, used_at {stamp} NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ISSUED} (id {serial} PRIMARY KEY, "
            f"digest VARCHAR(64) NOT NULL UNIQUE, created_at {stamp} NOT NULL)"
        )


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def store(values: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {ARTEFACTS} (digest) VALUES (%s)", [(digest(v),) for v in values]
        )


def consume_and_replace(value: str, replacement: str) -> bool:
    """One conditional UPDATE and one INSERT, in one transaction; False if already used."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ARTEFACTS} SET used_at = %s WHERE digest = %s AND used_at IS NULL",
            [now, digest(value)],
        )
        if cursor.rowcount != 1:
            return False
        cursor.execute(
            f"INSERT INTO {ISSUED} (digest, created_at) VALUES (%s, %s)",
            [digest(replacement), now],
        )
    return True


def insert_one(value: str) -> None:
    """The password grant's floor: one INSERT (the refresh token it must store), in its own
    transaction; nothing is consumed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ISSUED} (digest, created_at) VALUES (%s, %s)",
            [digest(value), timezone.now()],
        )
