"""The authentication methods a client may register, the ones the token endpoint implements and
the ones discovery advertises are one list (RFC 8414 §2 token_endpoint_auth_methods_supported)."""

from __future__ import annotations

import pytest

from oauth_token.models.clients import AuthMethod
from oauth_token.token_endpoint import client_auth


def test_every_registrable_method_is_implemented_once():
    names = client_auth.method_names()
    assert sorted(names) == sorted(AuthMethod.values)
    assert len(names) == len(set(names))


@pytest.mark.django_db
def test_discovery_advertises_exactly_the_implemented_methods(client, signing_keys):
    body = client.get("/.well-known/openid-configuration").json()
    assert body["token_endpoint_auth_methods_supported"] == list(client_auth.method_names())
    assert body["revocation_endpoint_auth_methods_supported"] == list(client_auth.method_names())
