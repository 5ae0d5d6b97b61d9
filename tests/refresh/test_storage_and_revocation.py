"""Refresh tokens at rest (digests only), revoking families, lookup and cleanup."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from oauth_token.core import secrets
from oauth_token.models import (
    RefreshFamilyAccessToken,
    RefreshToken,
    RefreshTokenFamily,
    RevokedAccessToken,
)
from oauth_token.tokens import cleanup, refresh_tokens
from oauth_token.tokens.revocation import is_revoked
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db


def test_database_holds_only_digests(offline_api, rt_client, start_family, refresh):
    client, _ = rt_client
    values = [start_family(client).refresh_token]
    for _ in range(3):
        values.append(refresh(values[-1]).json()["refresh_token"])

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    everything = dump.getvalue()
    for value in values:
        assert value not in everything
        assert secrets.digest(value) in everything
    assert sorted(RefreshToken.objects.values_list("token_digest", flat=True)) == sorted(
        secrets.digest(v) for v in values
    )


def test_revoking_a_family_denylists_every_access_token_it_issued(
    offline_api, rt_client, start_family, refresh, settings
):
    """Those recorded on refresh-token rows (the first grant, each rotation) and those issued
    without a new refresh token (the reuse leeway) alike: none outlives the family."""
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "REFRESH_TOKEN_REUSE_LEEWAY": 60}
    client, _ = rt_client
    issued = start_family(client)
    first = refresh(issued.refresh_token).json()
    replayed = refresh(issued.refresh_token).json()  # within the leeway: same successor
    second = refresh(first["refresh_token"]).json()
    jtis = [issued.access_token.jti] + [
        access_claims(body["access_token"])["jti"] for body in (first, replayed, second)
    ]
    family = RefreshTokenFamily.objects.get()
    assert sorted(jti for jti, _ in refresh_tokens.issued_access_tokens(family)) == sorted(jtis)

    assert refresh_tokens.revoke_family(family, "admin") == 4
    assert all(is_revoked(jti) for jti in jtis)


def test_revoke_family_lists_unexpired_access_tokens_once(offline_api, rt_client, start_family):
    client, _ = rt_client
    issued = start_family(client)
    family = RefreshTokenFamily.objects.get()
    RefreshFamilyAccessToken.objects.create(
        family=family, jti="long-gone", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert refresh_tokens.revoke_family(family, "admin") == 1
    assert refresh_tokens.revoke_family(family, "again") == 1  # idempotent

    family.refresh_from_db()
    assert family.revoked_reason == "admin"
    row = RevokedAccessToken.objects.get()
    assert (row.jti, row.client_id, row.reason) == (
        issued.access_token.jti,
        client.client_id,
        "refresh:admin",
    )
    assert is_revoked(issued.access_token.jti)
    assert not is_revoked("long-gone")


def test_revoked_family_refuses_refresh(offline_api, rt_client, start_family, refresh):
    client, _ = rt_client
    value = start_family(client).refresh_token
    refresh_tokens.revoke_family(RefreshTokenFamily.objects.get(), "admin")
    response = refresh(value)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "revoked" in response.json()["error_description"]


def test_is_active_follows_every_way_a_token_dies(
    offline_api, rt_client, start_family, refresh, resource_owner
):
    client, _ = rt_client
    value = start_family(client).refresh_token
    assert refresh_tokens.is_active(refresh_tokens.find(value))
    assert refresh_tokens.find(None) is None
    assert refresh_tokens.find("x" * 1000) is None

    RefreshToken.objects.update(idle_expires_at=timezone.now() - timedelta(seconds=1))
    assert not refresh_tokens.is_active(refresh_tokens.find(value))
    RefreshToken.objects.update(idle_expires_at=None)
    resource_owner.is_active = False
    resource_owner.save()
    assert not refresh_tokens.is_active(refresh_tokens.find(value))
    resource_owner.is_active = True
    resource_owner.save()

    successor = refresh(value).json()["refresh_token"]
    assert not refresh_tokens.is_active(refresh_tokens.find(value))  # rotated
    assert refresh_tokens.is_active(refresh_tokens.find(successor))
    RefreshTokenFamily.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not refresh_tokens.is_active(refresh_tokens.find(successor))


def _age_access_records(family: RefreshTokenFamily) -> None:
    past = timezone.now() - timedelta(seconds=1)
    family.access_tokens.update(expires_at=past)
    family.tokens.update(access_token_expires_at=past)


def test_cleanup_deletes_dead_families_and_keeps_live_ones(offline_api, rt_client, start_family):
    client, _ = rt_client
    for _ in range(5):
        start_family(client)
    live, revoked_recent, revoked_old, expired, idle = RefreshTokenFamily.objects.order_by("pk")

    refresh_tokens.revoke_family(revoked_recent, "admin")  # its access token is still valid
    refresh_tokens.revoke_family(revoked_old, "admin")
    _age_access_records(revoked_old)
    RefreshTokenFamily.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    _age_access_records(expired)
    RefreshToken.objects.filter(family=idle).update(
        idle_expires_at=timezone.now() - timedelta(seconds=1)
    )
    _age_access_records(idle)
    stale = RefreshFamilyAccessToken.objects.create(
        family=live, jti="stale", expires_at=timezone.now() - timedelta(seconds=1)
    )

    counts = cleanup.run(batch_size=2)

    assert counts["refresh_token_families"] == 3
    assert counts["refresh_family_access_tokens"] == 1
    assert set(RefreshTokenFamily.objects.values_list("pk", flat=True)) == {
        live.pk,
        revoked_recent.pk,
    }
    assert not RefreshFamilyAccessToken.objects.filter(pk=stale.pk).exists()
    assert RefreshToken.objects.count() == 2
    assert cleanup.run()["refresh_token_families"] == 0


def test_deleting_a_user_or_client_denylists_the_access_tokens_of_its_families(
    offline_api, rt_client, make_client, start_family, resource_owner
):
    client, _ = rt_client
    other, _ = make_client(name="Other", grant_types=None)
    by_client = start_family(client)
    by_other = start_family(other)

    client.delete()
    assert is_revoked(by_client.access_token.jti)
    assert not is_revoked(by_other.access_token.jti)
    assert RefreshTokenFamily.objects.count() == 1

    resource_owner.delete()
    assert is_revoked(by_other.access_token.jti)
    assert not RefreshTokenFamily.objects.exists()
    assert set(RevokedAccessToken.objects.values_list("reason", flat=True)) == {
        "refresh:client deleted",
        "refresh:user deleted",
    }
