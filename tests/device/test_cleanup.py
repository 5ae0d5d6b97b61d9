"""oauth_cleanup deletes expired device codes and pushed authorization requests."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from oauth_token.models import DeviceCode, PushedAuthorizationRequest
from tests.par.conftest import authorization_request
from tests.par.conftest import elapse as elapse_par

from .conftest import elapse

pytestmark = pytest.mark.django_db


def test_cleanup_deletes_only_expired_device_codes_and_par_requests(
    tv_client, device_code_request, make_client, api, capsys
):
    from tests.conftest import basic

    client, secret = tv_client
    codes = [
        device_code_request({"scope": "openid"}, auth=(client.client_id, secret)).json()
        for _ in range(3)
    ]
    elapse(codes[0]["device_code"], 900)
    elapse(codes[1]["device_code"], 1200)

    web, web_secret = make_client(
        name="Web", grant_types=["authorization_code"], redirect_uris=["https://a.example/cb"]
    )
    from rest_framework.test import APIClient

    uris = [
        APIClient()
        .post(
            "/oauth/par",
            authorization_request(redirect_uri="https://a.example/cb"),
            format="json",
            HTTP_AUTHORIZATION=basic(web.client_id, web_secret),
        )
        .json()["request_uri"]
        for _ in range(2)
    ]
    elapse_par(uris[0], 61)

    call_command("oauth_cleanup", "--batch-size", "1", "--json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["deleted"]["device_codes"] == 2
    assert doc["deleted"]["pushed_authorization_requests"] == 1
    assert DeviceCode.objects.count() == 1
    assert PushedAuthorizationRequest.objects.count() == 1
