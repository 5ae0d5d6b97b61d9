"""Admin pages for device codes and pushed requests: visible, read-only, no secret or digest."""

from __future__ import annotations

import pytest

from oauth_token.models import DeviceCode, PushedAuthorizationRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    return client


def test_device_code_admin_shows_digest_and_no_secret(
    admin_browser, tv_client, device_code_request
):
    client, secret = tv_client
    body = device_code_request({"scope": "openid"}, auth=(client.client_id, secret)).json()
    row = DeviceCode.objects.get()
    listing = admin_browser.get("/admin/oauth_token/devicecode/")
    assert listing.status_code == 200
    assert body["user_code"] in listing.content.decode()
    detail = admin_browser.get(f"/admin/oauth_token/devicecode/{row.pk}/change/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert row.device_code_digest not in html
    assert "Living-room TV" in html
    assert body["device_code"] not in html
    assert 'name="_save"' not in html
    assert admin_browser.get("/admin/oauth_token/devicecode/add/").status_code == 403


def test_par_admin_is_read_only(admin_browser, make_client, api, api_client):
    from tests.conftest import basic

    client, secret = make_client(
        name="Web", grant_types=["authorization_code"], redirect_uris=["https://a.example/cb"]
    )
    response = api_client.post(
        "/oauth/par",
        {
            "response_type": "code",
            "scope": "openid",
            "code_challenge_method": "S256",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        },
        format="json",
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert response.status_code == 201, response.content
    row = PushedAuthorizationRequest.objects.get()
    detail = admin_browser.get(f"/admin/oauth_token/pushedauthorizationrequest/{row.pk}/change/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert row.request_uri_digest not in html
    assert "S256" in html
    assert response.json()["request_uri"].rsplit(":", 1)[1] not in html
    add = admin_browser.get("/admin/oauth_token/pushedauthorizationrequest/add/")
    assert add.status_code == 403
