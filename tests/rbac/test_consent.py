"""The consent page shows only what can be granted: on an API with RBAC, none of its scopes
that the person's roles do not hold; the code then yields exactly what was shown."""

from __future__ import annotations

import re

import pytest

from oauth_token.registry import roles
from tests.authorize.fixtures import authorize, browser, user, web_app  # noqa: F401
from tests.authorize.helpers import CALLBACK, assert_redirect_params, pkce_pair
from tests.refresh.fixtures import access_claims

pytestmark = pytest.mark.django_db


def test_consent_lists_only_grantable_scopes_and_the_code_yields_them(
    authorize,  # noqa: F811
    browser,  # noqa: F811
    user,  # noqa: F811
    web_app,  # noqa: F811
    rbac_api,
    token_request,
    signing_keys,
):
    roles.assign(
        roles.create_role(name="reader", api=rbac_api, permissions=["read:things"]), user=user
    )
    client, secret = web_app
    verifier, challenge = pkce_pair()
    page = authorize(
        client,
        scope="openid read:things write:things",
        audience=rbac_api.identifier,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    html = page.content.decode()
    assert "<code>read:things</code>" in html
    assert "write:things" not in html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    code = assert_redirect_params(
        browser.post("/authorize/decision", {**fields, "decision": "allow"})
    )["code"]
    response = token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.json()
    assert response.json()["scope"] == "openid read:things"
    assert access_claims(response.json()["access_token"])["permissions"] == ["read:things"]
