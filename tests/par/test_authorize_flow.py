"""A pushed request carried through /authorize to tokens (RFC 9126 §4), and what /authorize
does with a request_uri that is expired, foreign or dressed up with extra parameters."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as BrowserClient

from oauth_token.models import AuthorizationCode
from tests.authorize.helpers import pkce_pair

from .conftest import CALLBACK, authorization_request, elapse, row_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_app(make_client, api):
    client, secret = make_client(
        name="Own app",
        grant_types=["authorization_code"],
        redirect_uris=[CALLBACK, "https://app.example.com/other"],
        first_party=True,
    )
    return client, secret


@pytest.fixture
def signed_in(db):
    person = get_user_model().objects.create_user("bob", password="pw", email="bob@example.com")
    browser = BrowserClient()
    browser.force_login(person)
    return browser


def assert_redirect(response):
    assert response.status_code == 302, response.content[:300]
    parts = urlsplit(response["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", {
        k: v[0] for k, v in parse_qs(parts.query).items()
    }


def authorize(browser, **params):
    return browser.get("/authorize?" + urlencode(params))


def test_pushed_request_through_authorize_to_tokens(
    own_app, push, signed_in, token_request, signing_keys
):
    client, secret = own_app
    verifier, challenge = pkce_pair()
    request_uri = push(
        authorization_request(code_challenge=challenge, state="pushed"),
        auth=(client.client_id, secret),
    ).json()["request_uri"]

    target, query = assert_redirect(
        authorize(signed_in, client_id=client.client_id, request_uri=request_uri)
    )
    assert target == CALLBACK
    assert query["state"] == "pushed"
    assert row_for(request_uri).consumed_at is not None

    response = token_request(
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "openid read:things"
    assert "id_token" in body


def test_parameters_in_the_url_do_not_override_the_pushed_ones(own_app, push, signed_in):
    client, secret = own_app
    request_uri = push(authorization_request(), auth=(client.client_id, secret)).json()[
        "request_uri"
    ]
    target, query = assert_redirect(
        authorize(
            signed_in,
            client_id=client.client_id,
            request_uri=request_uri,
            redirect_uri="https://app.example.com/other",
            state="from-the-url",
            scope="openid profile email",
        )
    )
    assert target == CALLBACK
    assert query["state"] == authorization_request()["state"]
    assert AuthorizationCode.objects.get().scopes == ["openid", "read:things"]


def test_expired_request_uri_is_an_error_page_and_no_code(own_app, push, signed_in):
    client, secret = own_app
    request_uri = push(authorization_request(), auth=(client.client_id, secret)).json()[
        "request_uri"
    ]
    elapse(request_uri, 60)
    response = authorize(signed_in, client_id=client.client_id, request_uri=request_uri)
    assert response.status_code == 400
    assert "Location" not in response
    assert "invalid_request_uri" in response.content.decode()
    assert not AuthorizationCode.objects.exists()


def test_request_uri_used_by_one_browser_is_refused_to_another(own_app, push, signed_in):
    client, secret = own_app
    request_uri = push(authorization_request(), auth=(client.client_id, secret)).json()[
        "request_uri"
    ]
    assert_redirect(authorize(signed_in, client_id=client.client_id, request_uri=request_uri))
    other = BrowserClient()
    other.force_login(get_user_model().objects.create_user("eve", password="pw"))
    response = other.get(
        "/authorize?" + urlencode({"client_id": client.client_id, "request_uri": request_uri})
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert AuthorizationCode.objects.count() == 1


def test_unknown_request_uri_is_an_error_page(own_app, signed_in):
    client, _ = own_app
    response = authorize(
        signed_in,
        client_id=client.client_id,
        request_uri="urn:ietf:params:oauth:request_uri:never-issued",
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_require_par_client_can_push_and_must(make_client, api, push, signed_in):
    client, secret = make_client(
        name="Strict app",
        grant_types=["authorization_code"],
        redirect_uris=[CALLBACK],
        first_party=True,
        require_par=True,
    )
    plain = authorize(signed_in, client_id=client.client_id, **authorization_request())
    _, query = assert_redirect(plain)
    assert query["error"] == "invalid_request"
    assert not AuthorizationCode.objects.exists()
    response = push(authorization_request(), auth=(client.client_id, secret))
    assert response.status_code == 201, response.content
    _, query = assert_redirect(
        authorize(signed_in, client_id=client.client_id, request_uri=response.json()["request_uri"])
    )
    assert query["code"]
