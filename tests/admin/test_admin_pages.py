"""Every oauth_token model's admin renders for a superuser (changelist, add, change)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oauth_token.models import Api, ApiScope, ClientGrant, RevokedAccessToken, SigningKey
from oauth_token.tokens import revocation

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(signing_keys, api, m2m_client):
    from datetime import timedelta

    from django.utils import timezone

    client, _ = m2m_client
    revocation.revoke_access_tokens(
        [("jti-1", timezone.now() + timedelta(hours=1))], client_id=client.client_id, reason="test"
    )
    return {
        "api": api,
        "client": client,
        "clientgrant": ClientGrant.objects.get(client=client),
        "signingkey": signing_keys.current,
        "revokedaccesstoken": RevokedAccessToken.objects.get(),
    }


MODELS = ["api", "client", "clientgrant", "signingkey", "revokedaccesstoken"]
READ_ONLY = {"signingkey", "revokedaccesstoken"}


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders_with_search(admin_client, objects, model):
    url = reverse(f"admin:oauth_token_{model}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == (2 if model == "signingkey" else 1)
    searched = admin_client.get(url, {"q": "no-such-thing-anywhere"})
    assert searched.status_code == 200
    assert searched.context["cl"].result_count == 0


@pytest.mark.parametrize("model", MODELS)
def test_change_page_renders(admin_client, objects, model):
    obj = objects[model]
    response = admin_client.get(reverse(f"admin:oauth_token_{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert response.context["original"] == obj
    if model in READ_ONLY:
        assert not response.context["has_change_permission"]


@pytest.mark.parametrize("model", MODELS)
def test_add_page(admin_client, db, model):
    response = admin_client.get(reverse(f"admin:oauth_token_{model}_add"))
    assert response.status_code == (403 if model in READ_ONLY else 200)


def test_filters_work(admin_client, objects):
    url = reverse("admin:oauth_token_signingkey_changelist")
    assert admin_client.get(url, {"state__exact": "next"}).context["cl"].result_count == 1
    url = reverse("admin:oauth_token_client_changelist")
    assert admin_client.get(url, {"client_type__exact": "public"}).context["cl"].result_count == 0
    url = reverse("admin:oauth_token_api_changelist")
    assert admin_client.get(url, {"q": "read:things"}).context["cl"].result_count == 1


def test_signing_key_page_shows_no_private_material(admin_client, signing_keys):
    key = signing_keys.current
    for url in (
        reverse("admin:oauth_token_signingkey_change", args=[key.pk]),
        reverse("admin:oauth_token_signingkey_changelist"),
    ):
        html = admin_client.get(url).content.decode()
        assert key.kid in html
        assert key.private_key_sealed not in html
        assert "PRIVATE KEY" not in html
        assert '"d":' not in html


def test_api_add_with_inline_scopes(admin_client, signing_keys):
    data = {
        "identifier": "https://inventory.example",
        "name": "Inventory",
        "access_token_lifetime": "900",
        "signing_alg": "RS256",
        "allow_offline_access": "on",
        "scopes-TOTAL_FORMS": "2",
        "scopes-INITIAL_FORMS": "0",
        "scopes-0-name": "read:stock",
        "scopes-0-description": "Read stock",
        "scopes-1-name": "write:stock",
    }
    response = admin_client.post(reverse("admin:oauth_token_api_add"), data)
    assert response.status_code == 302
    api = Api.objects.get(identifier="https://inventory.example")
    assert api.access_token_lifetime == 900 and api.allow_offline_access
    assert sorted(api.scopes.values_list("name", flat=True)) == ["read:stock", "write:stock"]
    assert api.scopes.get(name="read:stock").description == "Read stock"


def test_api_scope_descriptions_are_editable(admin_client, signing_keys, api):
    url = reverse("admin:oauth_token_api_change", args=[api.pk])
    scopes = list(api.scopes.all())
    data = {
        "identifier": api.identifier,
        "name": api.name,
        "access_token_lifetime": str(api.access_token_lifetime),
        "signing_alg": "RS256",
        "scopes-TOTAL_FORMS": str(len(scopes)),
        "scopes-INITIAL_FORMS": str(len(scopes)),
    }
    for n, scope in enumerate(scopes):
        data[f"scopes-{n}-id"] = str(scope.pk)
        data[f"scopes-{n}-api"] = str(api.pk)
        data[f"scopes-{n}-name"] = scope.name
        data[f"scopes-{n}-description"] = f"Described {scope.name}"
    assert admin_client.post(url, data).status_code == 302
    assert {s.description for s in api.scopes.all()} == {f"Described {s.name}" for s in scopes}


def test_api_signing_algorithm_without_a_key_is_refused_naming_the_command(admin_client, db):
    data = {
        "identifier": "https://inventory.example",
        "name": "Inventory",
        "access_token_lifetime": "900",
        "signing_alg": "EdDSA",
        "scopes-TOTAL_FORMS": "0",
        "scopes-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:oauth_token_api_add"), data)
    assert response.status_code == 200
    assert "manage.py oauth_keys rotate --alg EdDSA" in response.content.decode()
    assert not Api.objects.exists()


def test_labels_read_as_words(admin_client, make_client):
    client, _ = make_client()
    html = admin_client.get(reverse("admin:oauth_token_client_change", args=[client.pk]))
    html = html.content.decode()
    for label in ("JWKS:", "JWKS URI:", "Requires DPoP", "Requires PAR", "Redirect URIs:"):
        assert label in html, label
    for wrong in ("Jwks", "Require dpop", "Redirect uris"):
        assert wrong not in html, wrong


def test_empty_jwks_box_is_empty_not_null(admin_client, make_client):
    client, _ = make_client()
    html = admin_client.get(reverse("admin:oauth_token_client_change", args=[client.pk]))
    box = html.content.decode().split('name="jwks"', 1)[1].split("</textarea>", 1)[0]
    assert box.split(">", 1)[1].strip() == ""


@pytest.mark.parametrize("model", sorted(READ_ONLY))
def test_read_only_pages_have_no_save_button(admin_client, objects, model):
    row = objects[model]
    html = admin_client.get(reverse(f"admin:oauth_token_{model}_change", args=[row.pk]))
    assert html.status_code == 200
    assert 'name="_save"' not in html.content.decode()


def test_api_add_refuses_invalid_scope_name(admin_client, db):
    data = {
        "identifier": "https://inventory.example",
        "name": "Inventory",
        "access_token_lifetime": "900",
        "signing_alg": "RS256",
        "scopes-TOTAL_FORMS": "1",
        "scopes-INITIAL_FORMS": "0",
        "scopes-0-name": "has space",
    }
    response = admin_client.post(reverse("admin:oauth_token_api_add"), data)
    assert response.status_code == 200
    assert "Invalid scope name" in response.content.decode()
    assert not Api.objects.exists() and not ApiScope.objects.exists()


def test_client_grant_add_validates_scopes_against_api(admin_client, api, make_client):
    client, _ = make_client()
    url = reverse("admin:oauth_token_clientgrant_add")
    bad = admin_client.post(url, {"client": client.pk, "api": api.pk, "scopes": "fly:things"})
    assert bad.status_code == 200
    assert "has no scope(s): fly:things" in bad.content.decode()
    assert not ClientGrant.objects.exists()
    ok = admin_client.post(url, {"client": client.pk, "api": api.pk, "scopes": "read:things"})
    assert ok.status_code == 302
    assert ClientGrant.objects.get().scopes == ["read:things"]


def test_client_grant_with_empty_scopes_grants_all(admin_client, api, make_client):
    client, _ = make_client()
    url = reverse("admin:oauth_token_clientgrant_add")
    assert (
        admin_client.post(url, {"client": client.pk, "api": api.pk, "scopes": ""}).status_code
        == 302
    )
    assert ClientGrant.objects.get().scopes == ["delete:things", "read:things", "write:things"]


def test_staff_with_view_permission_only_cannot_rotate(db, client, signing_keys):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_signingkey"))
    client.force_login(user)
    changelist = client.get(reverse("admin:oauth_token_signingkey_changelist"))
    assert changelist.status_code == 200
    assert "rotate_selected" not in changelist.content.decode()
    assert (
        client.post(reverse("admin:oauth_token_signingkey_rotate"), {"alg": "RS256"}).status_code
        == 403
    )
    assert SigningKey.objects.count() == 2
