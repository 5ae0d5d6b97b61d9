"""The refresh-token table is the one that grows with every login and rotation: each rotation
inserts a row into every index on it, so it carries no index nothing reads. Its digest is
unique through one plain unique index; a ``unique=True`` CharField would add a second,
``varchar_pattern_ops`` index on PostgreSQL for LIKE queries this package never makes (two
124 MB indexes at 1M tokens instead of one, and the growth run's refresh p50 +18 %)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from oauth_token.models import Client
from oauth_token.models.refresh import RefreshToken, RefreshTokenFamily


def digest_indexes() -> dict[str, str]:
    """index name -> definition, for the indexes covering token_digest."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [RefreshToken._meta.db_table],
        )
        return {name: sql for name, sql in cursor.fetchall() if "token_digest" in sql}


@pytest.mark.django_db
def test_the_digest_has_one_unique_index_and_no_pattern_index_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("varchar_pattern_ops indexes exist only on PostgreSQL")
    indexes = digest_indexes()
    assert len(indexes) == 1, indexes
    (definition,) = indexes.values()
    assert definition.startswith("CREATE UNIQUE INDEX")
    assert "pattern_ops" not in definition


@pytest.mark.django_db
def test_a_digest_is_still_unique():
    client = Client.objects.create(name="digest owner", grant_types=["refresh_token"])
    family = RefreshTokenFamily.objects.create(client=client, subject="someone")
    RefreshToken.objects.create(family=family, token_digest="d" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        RefreshToken.objects.create(family=family, token_digest="d" * 64)
    assert RefreshToken.objects.filter(token_digest="d" * 64).count() == 1
