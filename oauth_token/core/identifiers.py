"""Identifiers that arrive from clients (Basic header, assertion ``iss``, URL paths, JSON
bodies) and are looked up in the database."""

from __future__ import annotations


def plausible(value: object, max_length: int) -> bool:
    """Whether any row could hold ``value``. One that none can (NUL, control characters, lone
    surrogates, too long) is unknown without asking the database, which would refuse it with an
    error (PostgreSQL: NUL in text) rather than an empty result."""
    return isinstance(value, str) and 0 < len(value) <= max_length and value.isprintable()
