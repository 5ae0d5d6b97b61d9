"""Attack: a staff user with only the *view* permission runs destructive admin actions.

The review found that a view-only staff user could run "rotate secret" on clients and read
the new secret, and revoke refresh-token families and consents. Every admin action now
declares the permission it needs (Django's ``@admin.action(permissions=[...])``): rotating a
secret needs *change* on clients, revoking families *change* on families, revoking consents
*delete* on consents, revoking signing keys *change* on signing keys."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.test import Client as BrowserClient
from django.urls import reverse

from oauth_token.core import secrets
from oauth_token.models import Consent, RefreshTokenFamily, SigningKey

pytestmark = pytest.mark.django_db


def _staff(django_user_model: Any, *codenames: str) -> BrowserClient:
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def _run(browser: BrowserClient, model: str, action: str, pks: list[Any]) -> Any:
    return browser.post(
        reverse(f"admin:oauth_token_{model}_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: pks, "post": "yes"},
        follow=True,
    )


def test_every_admin_action_declares_the_permission_it_needs():
    undeclared = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "oauth_token":
            continue
        for name in model_admin.actions or ():
            func = getattr(model_admin, name) if isinstance(name, str) else name
            if not getattr(func, "allowed_permissions", None):
                undeclared.append(f"{model.__name__}.{getattr(func, '__name__', name)}")
    assert not undeclared, f"admin actions without permissions=[...]: {undeclared}"


def test_view_only_staff_cannot_rotate_a_client_secret_and_read_it(django_user_model, m2m_client):
    client, old_secret = m2m_client
    browser = _staff(django_user_model, "view_client")
    listing = browser.get(reverse("admin:oauth_token_client_changelist"))
    assert listing.status_code == 200 and "rotate_secret" not in listing.content.decode()
    response = _run(browser, "client", "rotate_secret", [client.pk])
    assert 'class="client-secret"' not in response.content.decode()
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(old_secret)


def test_staff_with_change_permission_can_rotate_a_client_secret(django_user_model, m2m_client):
    client, old_secret = m2m_client
    browser = _staff(django_user_model, "view_client", "change_client")
    response = _run(browser, "client", "rotate_secret", [client.pk])
    assert 'class="client-secret"' in response.content.decode()
    client.refresh_from_db()
    assert client.secret_digest != secrets.digest(old_secret)


def test_view_only_staff_cannot_revoke_refresh_token_families(
    django_user_model, offline_api, rt_client, start_family
):
    start_family(rt_client[0])
    family = RefreshTokenFamily.objects.get()
    browser = _staff(django_user_model, "view_refreshtokenfamily")
    _run(browser, "refreshtokenfamily", "revoke_families", [family.pk])
    family.refresh_from_db()
    assert family.revoked_at is None


def test_view_only_staff_cannot_revoke_consents(django_user_model, make_client):
    client, _ = make_client(name="Web app", grant_types=None)
    person = django_user_model.objects.create_user("alice", password="pw")
    row = Consent.objects.create(user=person, client=client, audience="", scopes=["openid"])
    browser = _staff(django_user_model, "view_consent")
    _run(browser, "consent", "revoke_consents", [row.pk])
    assert Consent.objects.filter(pk=row.pk).exists()


def test_view_only_staff_cannot_revoke_signing_keys(django_user_model, signing_keys):
    from oauth_token.registry import keyring

    keyring.rotate("RS256")
    previous = SigningKey.objects.get(state="previous")
    browser = _staff(django_user_model, "view_signingkey")
    _run(browser, "signingkey", "revoke_selected", [previous.pk])
    previous.refresh_from_db()
    assert previous.state == "previous"
