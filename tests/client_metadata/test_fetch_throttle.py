"""The fetch throttle of Client ID Metadata Documents: anyone can name a fresh https URL as
client_id, and each one not seen before costs an outbound request and a client row. Those
fetches are counted per source IP and for the whole server (core/throttle.py); documents the
server already knows are not counted. Documents are served over real TLS from 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oauth_token.checks import check_configuration
from oauth_token.models import Client
from tests.authorize.helpers import CALLBACK
from tests.client_metadata.fixtures import (
    authorize_as,
    code_request,
    consent_fields,
    fetches,
    publish,
)
from tests.conftest import _urlencode

pytestmark = pytest.mark.django_db


@pytest.fixture
def fetch_limits(settings: Any, documents_on: None) -> Any:
    def limit(per_ip: int = 1000, per_window: int = 1000) -> None:
        settings.OAUTH_TOKEN = {
            **settings.OAUTH_TOKEN,
            "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_IP": per_ip,
            "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_WINDOW": per_window,
            "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW": 600,
        }

    return limit


def fresh(site: Any, n: int) -> str:
    """A client_id URL never seen before, with a valid document behind it."""
    return publish(site, path=f"/agents/{n}/client.json")


def assert_throttled_page(response: Any) -> None:
    """An error page, never a redirect to the unverified redirect_uri."""
    assert response.status_code == 429, (response.status_code, response.content[:300])
    assert "Location" not in response
    assert "<code>too_many_attempts</code>" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 600


def assert_throttled_json(response: Any) -> None:
    assert response.status_code == 429, (response.status_code, response.content[:300])
    assert response.json()["error"] == "too_many_attempts"
    assert 0 < int(response["Retry-After"]) <= 600


def from_address(browser: Any, client_id: str, ip: str) -> Any:
    browser.defaults["REMOTE_ADDR"] = ip
    return authorize_as(browser, client_id)[0]


def _push(api_client: Any, client_id: str) -> Any:
    form = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return api_client.generic(
        "POST", "/oauth/par", _urlencode(form), content_type="application/x-www-form-urlencoded"
    )


def test_flood_of_fresh_client_id_urls_hits_the_fetch_throttle(
    fetch_limits, https_site, browser, token_request, api_client
):
    fetch_limits(per_ip=3)
    for n in range(3):
        consent_fields(authorize_as(browser, fresh(https_site, n))[0])

    flood = [fresh(https_site, n) for n in range(3, 6)]
    assert_throttled_page(authorize_as(browser, flood[0])[0])
    assert_throttled_json(code_request(token_request, flood[1]))
    assert_throttled_json(_push(api_client, flood[2]))

    assert Client.objects.filter(client_id__in=flood).count() == 0
    assert Client.objects.filter(metadata_document_expires_at__isnull=False).count() == 3
    assert sum(fetches(https_site, f"/agents/{n}/client.json") for n in range(3, 6)) == 0


def test_the_server_wide_count_bounds_fetches_from_many_addresses(
    fetch_limits, https_site, browser
):
    fetch_limits(per_ip=1, per_window=3)
    for n in range(3):
        consent_fields(from_address(browser, fresh(https_site, n), f"198.51.100.{n}"))
    assert_throttled_page(from_address(browser, fresh(https_site, 9), "198.51.100.9"))
    assert fetches(https_site, "/agents/9/client.json") == 0


def test_an_address_over_its_limit_does_not_spend_the_server_allowance(
    fetch_limits, https_site, browser
):
    fetch_limits(per_ip=1, per_window=2)
    consent_fields(from_address(browser, fresh(https_site, 0), "198.51.100.1"))
    for n in range(1, 6):
        assert_throttled_page(from_address(browser, fresh(https_site, n), "198.51.100.1"))
    consent_fields(from_address(browser, fresh(https_site, 7), "198.51.100.2"))


def test_known_documents_are_not_counted(fetch_limits, https_site, browser, token_request):
    fetch_limits(per_ip=1)
    client_id = publish(https_site, headers={"Cache-Control": "max-age=600"})
    for _ in range(5):  # fresh in the cache: no fetch, no count
        consent_fields(authorize_as(browser, client_id)[0])
    Client.objects.filter(client_id=client_id).update(
        metadata_document_expires_at=timezone.now() - timedelta(seconds=1)
    )
    Client.objects.get(client_id=client_id).save()  # caches dropped: the row is stale
    consent_fields(authorize_as(browser, client_id)[0])  # refetched, still not counted
    assert fetches(https_site) == 2

    assert_throttled_page(authorize_as(browser, fresh(https_site, 1))[0])  # the one was used


@pytest.mark.parametrize(
    "name",
    [
        "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_IP",
        "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_WINDOW",
        "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW",
    ],
)
@pytest.mark.parametrize("value", [0, -1, "30", True, None])
def test_check_reports_a_bad_fetch_limit(settings, name, value):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, name: value}
    assert "oauth_token.E161" in [e.id for e in check_configuration()]


def test_check_accepts_the_default_fetch_limits():
    assert "oauth_token.E161" not in [e.id for e in check_configuration()]


def test_logout_naming_fresh_client_id_urls_meets_the_same_throttle(
    fetch_limits, https_site, client
):
    """/oidc/logout looks the client up too: past the limit an error page, never a redirect."""
    fetch_limits(per_ip=1)
    client.get("/oidc/logout", {"client_id": fresh(https_site, 0)})
    response = client.get("/oidc/logout", {"client_id": fresh(https_site, 1)})
    assert response.status_code == 429, (response.status_code, response.content[:300])
    assert "Location" not in response
    assert 0 < int(response["Retry-After"]) <= 600
    assert fetches(https_site, "/agents/1/client.json") == 0
