"""The client's admin page sets its token lifetimes (issue 14), like `oauth_client update`."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oauth_token.models import Client
from oauth_token.registry import provisioning

pytestmark = pytest.mark.django_db


def test_admin_sets_and_clears_per_client_lifetimes(admin_client):
    client = provisioning.create_client(name="M2M", grant_types=["client_credentials"]).client
    url = reverse("admin:oauth_token_client_change", args=[client.pk])
    page = admin_client.get(url).content.decode()
    for field in ("access_token_lifetime", "refresh_token_lifetime", "refresh_idle_lifetime"):
        assert f'name="{field}"' in page
    form = {
        "name": "M2M",
        "client_type": "confidential",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["client_credentials"],
        "redirect_uris": "",
        "jwks": "",
        "jwks_uri": "",
        "is_active": "on",
        "exchange_audiences": "[]",
        "trusted_issuers": "[]",
        "client_grants-TOTAL_FORMS": "0",
        "client_grants-INITIAL_FORMS": "0",
        "access_token_lifetime": "300",
        "refresh_token_lifetime": "0",
        "refresh_idle_lifetime": "",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.refresh_from_db()
    assert (
        client.access_token_lifetime,
        client.refresh_token_lifetime,
        client.refresh_idle_lifetime,
    ) == (300, 0, None)
    form["access_token_lifetime"] = "0"  # an access token needs a positive lifetime
    assert admin_client.post(url, form).status_code == 200
    assert Client.objects.get(pk=client.pk).access_token_lifetime == 300
