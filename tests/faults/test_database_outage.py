"""PostgreSQL going away under a running server, and coming back.

A live server (a real subprocess with persistent connections, as production runs) reaches the
test database through a TCP proxy we control. Cutting the proxy severs its open connection and
refuses new ones — what a database restart or failover looks like from a worker. The token
endpoint must answer 503 JSON ``temporarily_unavailable`` with ``Retry-After``, log one line,
and serve again, without a restart, once the database is reachable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from oauth_token.registry import provisioning
from tests import kit
from tests.services import LiveServer, TcpProxy, database_url, post_form, require_postgres

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def proxied_server(tmp_path) -> Iterator[tuple[LiveServer, TcpProxy]]:
    require_postgres("SQLite is a file, it has no server to lose")
    from django.db import connection

    proxy = TcpProxy(
        connection.settings_dict.get("HOST") or "127.0.0.1",
        int(connection.settings_dict.get("PORT") or 5432),
    )
    proxy.restore()
    server = LiveServer(tmp_path, database=database_url(port=proxy.port), cache="locmem://")
    try:
        yield server.start(), proxy
    finally:
        server.stop()
        proxy.cut()


def _secret_client(api):
    created = provisioning.create_client(name="db-outage", grant_types=["client_credentials"])
    provisioning.grant(created.client, api, ["read:things"])
    return created.client.client_id, created.secret


def _token(server: LiveServer, client_id: str, secret: str):
    return post_form(
        f"{server.url}/oauth/token",
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        headers={"Authorization": kit.basic(client_id, secret)},
    )


def test_database_cut_answers_503_then_recovers_without_restart(proxied_server, signing_keys, api):
    server, proxy = proxied_server
    warm = _secret_client(api)
    assert _token(server, *warm)[0] == 200  # the worker now holds an open connection
    cold = _secret_client(api)  # never looked up: the server must ask the database

    proxy.cut()
    status, headers, raw = _token(server, *cold)
    assert status == 503, raw
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Retry-After"] == "2"
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(raw)["error"] == "temporarily_unavailable"
    lines = server.log_lines()
    assert lines == ["ERROR oauth_token oauth_token database unavailable: OperationalError"], lines
    assert cold[1] not in server.log_path.read_text()

    proxy.restore()
    status, _, raw = _token(server, *cold)
    assert status == 200, raw
    assert json.loads(raw)["scope"] == "read:things"
    status, _, _ = _token(server, *warm)
    assert status == 200
    assert len(server.log_lines()) == 1


def test_every_request_during_the_outage_is_503_json(proxied_server, signing_keys, api):
    server, proxy = proxied_server
    clients = [_secret_client(api) for _ in range(3)]
    proxy.cut()
    results = [_token(server, *c) for c in clients]
    assert [r[0] for r in results] == [503, 503, 503]
    assert all(json.loads(r[2])["error"] == "temporarily_unavailable" for r in results)
    assert len(server.log_lines()) == 3
    proxy.restore()
    assert [_token(server, *c)[0] for c in clients] == [200, 200, 200]


def test_wrong_secret_during_outage_is_503_not_a_leak(proxied_server, signing_keys, api):
    """While the database is away the server cannot tell a wrong secret from a right one; it
    must say so (503) rather than guess either way."""
    server, proxy = proxied_server
    client_id, _ = _secret_client(api)
    proxy.cut()
    status, _, raw = _token(server, client_id, "guess")
    assert status == 503
    assert json.loads(raw)["error"] == "temporarily_unavailable"
