from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oauth_token.models import RevokedAccessToken
from oauth_token.tokens import cleanup

from .conftest import assert_one_line_failure

pytestmark = pytest.mark.django_db


def _denylist(n: int, expired: bool) -> None:
    now = timezone.now()
    delta = timedelta(minutes=-5 if expired else 5)
    RevokedAccessToken.objects.bulk_create(
        RevokedAccessToken(jti=f"{'old' if expired else 'live'}-{i}", expires_at=now + delta)
        for i in range(n)
    )


def test_deletes_expired_denylist_rows_in_batches(manage, django_assert_max_num_queries):
    _denylist(7, expired=True)
    _denylist(3, expired=False)
    doc = manage("oauth_cleanup", "--batch-size", "3", "--json").json()
    assert doc["deleted"]["revoked_access_tokens"] == 7
    assert doc["total"] == 7
    assert set(doc["deleted"]) == {t.name for t in cleanup.TARGETS}
    assert sorted(RevokedAccessToken.objects.values_list("jti", flat=True)) == [
        "live-0",
        "live-1",
        "live-2",
    ]
    assert manage("oauth_cleanup", "--json").json()["total"] == 0


def test_batches_are_bounded(django_assert_num_queries):
    _denylist(5, expired=True)
    queryset = RevokedAccessToken.objects.filter(expires_at__lte=timezone.now())
    # 3 batches of at most 2 (select + delete each) and a final empty select.
    with django_assert_num_queries(7):
        assert cleanup.delete_in_batches(queryset, 2) == 5


def test_human_output(manage):
    _denylist(2, expired=True)
    result = manage("oauth_cleanup")
    assert result.code == 0
    assert "revoked_access_tokens: 2 deleted" in result.out


def test_every_target_is_reported_even_when_nothing_expired(manage):
    doc = manage("oauth_cleanup", "--json").json()
    assert list(doc["deleted"]) == [t.name for t in cleanup.TARGETS]
    assert set(doc["deleted"].values()) == {0}


def test_bad_batch_size(manage):
    result = manage("oauth_cleanup", "--batch-size", "0")
    assert result.code == 2
    assert_one_line_failure(result, "--batch-size")
