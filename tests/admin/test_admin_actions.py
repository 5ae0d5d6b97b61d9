"""Admin actions: client secrets shown exactly once; key rotation and revocation."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from oauth_token.core import secrets
from oauth_token.models import Client, SigningKey

pytestmark = pytest.mark.django_db


def _client_form(**overrides):
    data = {
        "name": "Admin-made",
        "client_type": "confidential",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["client_credentials"],
        "redirect_uris": "https://app.example/cb\nhttps://app.example/cb2",
        "jwks": "",
        "jwks_uri": "",
        "is_active": "on",
        "exchange_audiences": "[]",
        "trusted_issuers": "[]",
        "client_grants-TOTAL_FORMS": "0",
        "client_grants-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def _secret_in(html: str) -> str:
    start = html.index('class="client-secret">') + len('class="client-secret">')
    return html[start : html.index("<", start)]


def test_add_client_shows_secret_once_then_never(admin_client, db):
    response = admin_client.post(reverse("admin:oauth_token_client_add"), _client_form())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = _secret_in(html)
    assert html.count(secret) == 1
    client = Client.objects.get(name="Admin-made")
    assert client.secret_digest == secrets.digest(secret)
    assert client.redirect_uris == ["https://app.example/cb", "https://app.example/cb2"]
    assert client.grant_types == ["client_credentials"]
    for url in (
        reverse("admin:oauth_token_client_change", args=[client.pk]),
        reverse("admin:oauth_token_client_changelist"),
    ):
        later = admin_client.get(url).content.decode()
        assert secret not in later
        assert client.secret_digest not in later
    assert (
        "Set; only its SHA-256 digest is stored"
        in admin_client.get(
            reverse("admin:oauth_token_client_change", args=[client.pk])
        ).content.decode()
    )


def test_add_public_client_has_no_secret_page(admin_client, db):
    response = admin_client.post(
        reverse("admin:oauth_token_client_add"),
        _client_form(
            client_type="public",
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "refresh_token"],
        ),
    )
    assert response.status_code == 302
    assert Client.objects.get().secret_digest == ""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_type": "public"}, "public client authenticates"),
        ({"redirect_uris": "not-absolute"}, "absolute URI"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "private_key_jwt needs"),
        ({"jwks": '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'}, "public key"),
    ],
)
def test_add_client_refuses_bad_registration(admin_client, db, overrides, message):
    response = admin_client.post(reverse("admin:oauth_token_client_add"), _client_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Client.objects.exists()


def test_client_id_is_read_only(admin_client, make_client):
    client, _ = make_client()
    url = reverse("admin:oauth_token_client_change", args=[client.pk])
    response = admin_client.post(url, _client_form(client_id="chosen-by-attacker", name="Renamed"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Renamed"
    assert client.client_id != "chosen-by-attacker"


def test_editing_keeps_secret(admin_client, make_client):
    client, secret = make_client()
    url = reverse("admin:oauth_token_client_change", args=[client.pk])
    assert admin_client.post(url, _client_form(name="Renamed")).status_code == 302
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(secret)


def test_switching_to_a_secret_method_shows_new_secret_once(admin_client, make_client):
    client, _ = make_client(client_type="public", grant_types=["authorization_code"])
    url = reverse("admin:oauth_token_client_change", args=[client.pk])
    response = admin_client.post(url, _client_form(grant_types=["authorization_code"]))
    assert response.status_code == 200
    secret = _secret_in(response.content.decode())
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(secret)


def test_rotate_secret_action_shows_new_secret_once(admin_client, m2m_client, make_client):
    client, old_secret = m2m_client
    public, _ = make_client(name="Public", client_type="public", grant_types=["authorization_code"])
    response = admin_client.post(
        reverse("admin:oauth_token_client_changelist"),
        {"action": "rotate_secret", helpers.ACTION_CHECKBOX_NAME: [client.pk, public.pk]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = _secret_in(html)
    assert secret != old_secret and html.count(secret) == 1
    assert "No secret to rotate" in html and "Public" in html
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(secret)
    later = admin_client.get(reverse("admin:oauth_token_client_changelist")).content.decode()
    assert secret not in later


def _key_action(admin_client, action, keys):
    return admin_client.post(
        reverse("admin:oauth_token_signingkey_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [k.pk for k in keys]},
        follow=True,
    )


def test_rotate_action(admin_client, signing_keys):
    response = _key_action(admin_client, "rotate_selected", [signing_keys.current])
    assert response.status_code == 200
    states = dict(SigningKey.objects.values_list("kid", "state"))
    assert states[signing_keys.current.kid] == "previous"
    assert states[signing_keys.next.kid] == "current"
    assert sorted(states.values()) == ["current", "next", "previous"]
    assert "Rotated RS256" in response.content.decode()


def test_rotate_view_creates_first_keys(admin_client, db):
    url = reverse("admin:oauth_token_signingkey_rotate")
    assert admin_client.get(url).status_code == 200
    assert (
        "Rotate keys"
        in admin_client.get(reverse("admin:oauth_token_signingkey_changelist")).content.decode()
    )
    response = admin_client.post(url, {"alg": "ES256"})
    assert response.status_code == 302
    assert sorted(SigningKey.objects.values_list("alg", "state")) == [
        ("ES256", "current"),
        ("ES256", "next"),
    ]
    assert admin_client.post(url, {"alg": "HS256"}).status_code == 200
    assert SigningKey.objects.count() == 2


def test_revoke_action(admin_client, signing_keys, client):
    old = signing_keys.current
    _key_action(admin_client, "rotate_selected", [old])
    response = _key_action(admin_client, "revoke_selected", [SigningKey.objects.get(pk=old.pk)])
    assert "Revoked" in response.content.decode()
    assert SigningKey.objects.get(pk=old.pk).state == "revoked"
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert old.kid not in kids


def test_revoke_action_refuses_current_key(admin_client, signing_keys):
    response = _key_action(admin_client, "revoke_selected", [signing_keys.current])
    assert "rotate first" in response.content.decode()
    assert SigningKey.objects.get(pk=signing_keys.current.pk).state == "current"
