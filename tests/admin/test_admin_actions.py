"""Admin actions: client secrets shown exactly once (Post/Redirect/Get to a one-time page);
destructive actions confirmed first; key rotation and revocation."""

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


def _shown_secret(admin_client, response) -> tuple[str, str]:
    """Follow the redirect to the one-time page; returns (its URL, the secret shown)."""
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith("/admin/oauth_token/client/secret/")
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    return url, _secret_in(page.content.decode())


def test_add_client_shows_secret_once_then_never(admin_client, db):
    response = admin_client.post(reverse("admin:oauth_token_client_add"), _client_form())
    page_url, secret = _shown_secret(admin_client, response)
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
    # Reloading the page that showed it: gone, and nothing was created again.
    again = admin_client.get(page_url)
    assert again.status_code == 410 and secret not in again.content.decode()
    assert Client.objects.count() == 1


def test_secret_page_is_only_for_the_staff_user_who_made_it(admin_client, db, django_user_model):
    response = admin_client.post(reverse("admin:oauth_token_client_add"), _client_form())
    other = django_user_model.objects.create_superuser("other-admin", "o@example.com", "pw")
    from django.test import Client as BrowserClient

    browser = BrowserClient()
    browser.force_login(other)
    stolen = browser.get(response["Location"])
    assert stolen.status_code == 410
    assert 'class="client-secret"' not in stolen.content.decode()
    # The rightful user can still see it once.
    _shown_secret(admin_client, response)


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
    _url, secret = _shown_secret(admin_client, response)
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(secret)


def _rotate(admin_client, clients, **extra):
    return admin_client.post(
        reverse("admin:oauth_token_client_changelist"),
        {"action": "rotate_secret", helpers.ACTION_CHECKBOX_NAME: [c.pk for c in clients], **extra},
    )


def test_rotate_secret_asks_for_confirmation_first(admin_client, m2m_client):
    client, old_secret = m2m_client
    response = _rotate(admin_client, [client])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rotate client secrets?" in html and "stops working at once" in html
    assert 'name="post" value="yes"' in html and client.name in html
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(old_secret)  # nothing happened yet


def test_rotate_secret_action_shows_new_secret_once(admin_client, m2m_client, make_client):
    client, old_secret = m2m_client
    public, _ = make_client(name="Public", client_type="public", grant_types=["authorization_code"])
    response = _rotate(admin_client, [client, public], post="yes")
    page_url = response["Location"]
    html = admin_client.get(page_url).content.decode()
    secret = _secret_in(html)
    assert secret != old_secret and html.count(secret) == 1
    assert "No secret to rotate" in html and "Public" in html
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(secret)
    later = admin_client.get(reverse("admin:oauth_token_client_changelist")).content.decode()
    assert secret not in later
    # A reload of the shown page does not rotate again, nor show the secret again.
    assert admin_client.get(page_url).status_code == 410
    client.refresh_from_db()
    assert client.secret_digest == secrets.digest(secret)


def _key_action(admin_client, action, keys, confirm=True):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [k.pk for k in keys]}
    if confirm:
        data["post"] = "yes"
    return admin_client.post(reverse("admin:oauth_token_signingkey_changelist"), data, follow=True)


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


def test_revoke_action_asks_for_confirmation_first(admin_client, signing_keys):
    old = signing_keys.current
    _key_action(admin_client, "rotate_selected", [old])
    response = _key_action(admin_client, "revoke_selected", [old], confirm=False)
    assert "Revoke signing keys?" in response.content.decode()
    assert SigningKey.objects.get(pk=old.pk).state == "previous"


def test_revoke_action_refuses_current_key(admin_client, signing_keys):
    response = _key_action(admin_client, "revoke_selected", [signing_keys.current])
    assert "rotate first" in response.content.decode()
    assert SigningKey.objects.get(pk=signing_keys.current.pk).state == "current"
