"""Redeeming a request_uri (RFC 9126 §4): single use, short-lived, bound to its client."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from oauth_token.authorize import par
from oauth_token.errors import InvalidRequest, InvalidRequestUri

from .conftest import authorization_request, elapse, row_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(web_client, push):
    client, secret = web_client
    return push(authorization_request(), auth=(client.client_id, secret)).json()["request_uri"]


def test_consume_returns_the_pushed_parameters_once(web_client, pushed):
    client, _ = web_client
    params = par.consume(client.client_id, pushed)
    assert params == {**authorization_request(), "client_id": client.client_id}
    assert row_for(pushed).consumed_at is not None
    with pytest.raises(InvalidRequestUri):
        par.consume(client.client_id, pushed)


def test_expired_request_uri_is_refused(web_client, pushed):
    client, _ = web_client
    elapse(pushed, 60)
    with pytest.raises(InvalidRequestUri) as excinfo:
        par.consume(client.client_id, pushed)
    assert excinfo.value.error == "invalid_request_uri"
    assert row_for(pushed).consumed_at is None


def test_request_uri_within_its_lifetime_is_accepted(web_client, pushed):
    client, _ = web_client
    elapse(pushed, 59)
    assert par.consume(client.client_id, pushed)["response_type"] == "code"


def test_another_client_cannot_use_it_nor_use_it_up(web_client, spa_client, pushed):
    with pytest.raises(InvalidRequest) as excinfo:
        par.consume(spa_client.client_id, pushed)
    assert excinfo.value.error == "invalid_request"
    assert row_for(pushed).consumed_at is None
    client, _ = web_client
    assert par.consume(client.client_id, pushed)


@pytest.mark.parametrize(
    "request_uri",
    ["urn:ietf:params:oauth:request_uri:unknown", "https://app.example.com/request.jwt", ""],
)
def test_unknown_or_foreign_request_uri_is_invalid_request_uri(web_client, request_uri):
    client, _ = web_client
    with pytest.raises(InvalidRequestUri):
        par.consume(client.client_id, request_uri)


def _browser_request():
    request = RequestFactory().get("/authorize")
    request.session = SessionStore()
    return request


def test_resolve_lets_the_same_browser_come_back(web_client, pushed):
    client, _ = web_client
    request = _browser_request()
    first = par.resolve(request, client.client_id, pushed)
    elapse(pushed, 120)  # e.g. the person took two minutes to log in
    assert par.resolve(request, client.client_id, pushed) == first


def test_resolve_refuses_a_second_browser(web_client, pushed):
    client, _ = web_client
    par.resolve(_browser_request(), client.client_id, pushed)
    with pytest.raises(InvalidRequestUri):
        par.resolve(_browser_request(), client.client_id, pushed)


def test_resolve_refuses_another_client_id_from_the_same_browser(web_client, spa_client, pushed):
    client, _ = web_client
    request = _browser_request()
    par.resolve(request, client.client_id, pushed)
    with pytest.raises(InvalidRequest):
        par.resolve(request, spa_client.client_id, pushed)


def test_forget_ends_the_browser_hold(web_client, pushed):
    client, _ = web_client
    request = _browser_request()
    par.resolve(request, client.client_id, pushed)
    par.forget(request, pushed)
    with pytest.raises(InvalidRequestUri):
        par.resolve(request, client.client_id, pushed)
