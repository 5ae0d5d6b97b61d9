"""The admin's refresh-token families: listed per user and client, revocable, no digests."""

from __future__ import annotations

import pytest

from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.tokens import refresh_tokens
from oauth_token.tokens.revocation import is_revoked

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/oauth_token/refreshtokenfamily/"


@pytest.fixture
def issued(offline_api, rt_client, start_family, refresh):
    client, _ = rt_client
    first = start_family(client)
    second = refresh(first.refresh_token).json()
    return first, second


def test_changelist_and_detail_show_families_without_digests(admin_client, issued, rt_client):
    client, _ = rt_client
    family = RefreshTokenFamily.objects.get()
    digests = list(RefreshToken.objects.values_list("token_digest", flat=True))

    listing = admin_client.get(CHANGELIST, {"q": "alice"})
    detail = admin_client.get(f"{CHANGELIST}{family.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    assert client.name in listing.content.decode()
    assert "alice" in listing.content.decode()
    assert "active" in listing.content.decode()
    for page in (listing.content.decode(), detail.content.decode()):
        for secret in [*digests, issued[0].refresh_token, issued[1]["refresh_token"]]:
            assert secret not in page
    assert (
        admin_client.get(CHANGELIST, {"q": "nobody"})
        .content.decode()
        .count(f"{CHANGELIST}{family.pk}/change/")
        == 0
    )


def test_filter_by_client_and_state(admin_client, issued, rt_client):
    client, _ = rt_client
    family = RefreshTokenFamily.objects.get()
    link = f"{CHANGELIST}{family.pk}/change/"
    assert link in admin_client.get(CHANGELIST, {"client__id__exact": client.pk}).content.decode()
    assert link in admin_client.get(CHANGELIST, {"state": "active"}).content.decode()
    assert link not in admin_client.get(CHANGELIST, {"state": "revoked"}).content.decode()


def test_revoke_action_revokes_family_and_denylists_access_tokens(admin_client, issued):
    family = RefreshTokenFamily.objects.get()
    response = admin_client.post(
        CHANGELIST,
        {"action": "revoke_families", "_selected_action": [family.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Revoked 1 family; 2 access token(s) denylisted." in response.content.decode()
    family.refresh_from_db()
    assert family.revoked_at is not None and family.revoked_reason == "admin"
    issued_from = refresh_tokens.issued_access_tokens(family)
    assert len(issued_from) == 2
    assert all(is_revoked(jti) for jti, _ in issued_from)


def test_family_page_is_read_only_without_a_save_button(admin_client, issued):
    family = RefreshTokenFamily.objects.get()
    page = admin_client.get(f"{CHANGELIST}{family.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_revoking_families_asks_for_confirmation_first(admin_client, issued):
    family = RefreshTokenFamily.objects.get()
    page = admin_client.post(
        CHANGELIST, {"action": "revoke_families", "_selected_action": [family.pk]}
    )
    assert page.status_code == 200
    assert "Revoke refresh-token families?" in page.content.decode()
    family.refresh_from_db()
    assert family.revoked_at is None


def test_families_cannot_be_added_or_deleted_in_the_admin(admin_client, issued):
    family = RefreshTokenFamily.objects.get()
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{family.pk}/delete/").status_code == 403
