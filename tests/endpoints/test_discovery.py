"""Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): it lists exactly what this
deployment serves, built from the grant registry, the auth methods and the URL routes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from oauth_token.grants import registry
from oauth_token.models.clients import AuthMethod
from oauth_token.views.discovery import OPTIONAL_ENDPOINTS

pytestmark = pytest.mark.django_db

ISSUER = "https://auth.example.test/"
PATHS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]


@pytest.fixture
def metadata(client):
    response = client.get(PATHS[0])
    assert response.status_code == 200
    return response.json()


def test_both_metadata_documents_are_the_same(client):
    first, second = (client.get(p) for p in PATHS)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()


def test_metadata_names_the_issuer_token_endpoint_and_jwks(metadata):
    assert metadata["issuer"] == ISSUER
    assert metadata["token_endpoint"] == "https://auth.example.test/oauth/token"
    assert metadata["jwks_uri"] == "https://auth.example.test/.well-known/jwks.json"


def test_metadata_follows_the_issuer_setting(client, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "ISSUER": "https://id.example.org/"}
    metadata = client.get(PATHS[0]).json()
    assert metadata["issuer"] == "https://id.example.org/"
    assert metadata["token_endpoint"] == "https://id.example.org/oauth/token"


def test_every_advertised_url_is_served_here(metadata):
    """Every ``*_endpoint`` and ``jwks_uri`` resolves to a route of this server."""
    urls = {k: v for k, v in metadata.items() if k.endswith("_endpoint") or k == "jwks_uri"}
    assert urls
    for name, url in urls.items():
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}/" == ISSUER, name
        try:
            resolve(parts.path)
        except Resolver404:
            pytest.fail(f"{name} ({url}) is not routed")


def test_optional_endpoints_are_listed_exactly_when_routed(metadata):
    for name, route in OPTIONAL_ENDPOINTS.items():
        try:
            reverse(f"oauth_token:{route}")
            routed = True
        except NoReverseMatch:
            routed = False
        assert (name in metadata) == routed, name


@override_settings(ROOT_URLCONF="tests.endpoints.minimal_urls")
def test_a_deployment_with_only_the_token_endpoint_lists_nothing_else(client):
    metadata = client.get(PATHS[0]).json()
    assert metadata["token_endpoint"] == "https://auth.example.test/oauth/token"
    for name in OPTIONAL_ENDPOINTS:
        assert name not in metadata, name
    assert "revocation_endpoint_auth_methods_supported" not in metadata
    assert "introspection_endpoint_auth_methods_supported" not in metadata


def test_grant_types_are_those_of_the_registry(metadata):
    advertised = [g for g, s in registry().items() if s.advertised]
    assert metadata["grant_types_supported"] == advertised
    assert "client_credentials" in advertised


def test_every_advertised_grant_type_is_accepted_by_the_token_endpoint(metadata, token_request):
    """Not ``unsupported_grant_type``: the request gets as far as client authentication."""
    for grant_type in metadata["grant_types_supported"]:
        response = token_request({"grant_type": grant_type}, auth=("nobody", "nothing"))
        assert response.json()["error"] == "invalid_client", grant_type


def test_grant_added_in_settings_is_advertised(client, settings):
    settings.OAUTH_TOKEN = {
        **settings.OAUTH_TOKEN,
        "EXTRA_GRANT_TYPES": {"urn:example:grant": "tests.endpoints.extra_grant.ExampleGrant"},
    }
    assert "urn:example:grant" in client.get(PATHS[0]).json()["grant_types_supported"]


def test_auth_methods_are_the_five_client_auth_methods(metadata):
    assert sorted(metadata["token_endpoint_auth_methods_supported"]) == sorted(AuthMethod.values)


def test_assertion_algorithms_follow_settings_and_never_include_none(client, settings):
    metadata = client.get(PATHS[0]).json()
    algs = metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert "none" not in algs and "RS256" in algs and "HS256" in algs
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CLIENT_ASSERTION_ALGORITHMS": ["ES256"]}
    metadata = client.get(PATHS[0]).json()
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["ES256"]


def test_metadata_is_public_and_cacheable(client):
    response = client.get(PATHS[1])
    assert response["Content-Type"] == "application/json"
    assert "max-age=" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", PATHS)
def test_missing_issuer_is_a_json_server_error_not_an_html_page(client, settings, path):
    """An operator's mistake (check E001 names it) still answers in JSON."""
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "ISSUER": None}
    response = client.get(path)
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
