"""The example project's PostgreSQL options come from the environment, as the README's
production checklist describes them (``DATABASE_PREPARED_STATEMENTS``, ``DATABASE_POOL``)."""

from __future__ import annotations

import json

import pytest

from .conftest import manage

PRINT_DATABASE = (
    "import json; from django.conf import settings; "
    "d = settings.DATABASES['default']; "
    "print(json.dumps({'options': d.get('OPTIONS', {}), 'conn_max_age': d['CONN_MAX_AGE']}))"
)
POSTGRES = "postgres://postgres@127.0.0.1:5432/example"


def database_settings(tmp_path, **env: str) -> dict:
    shown = manage(tmp_path, "shell", "-c", PRINT_DATABASE, **env)
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout.strip().splitlines()[-1]))


def test_prepared_statements_are_off_unless_asked_for(tmp_path):
    assert database_settings(tmp_path, DATABASE_URL=POSTGRES)["options"] == {}


@pytest.mark.parametrize("pool", ["false", "true"])
def test_prepared_statements_on_postgresql_with_or_without_the_pool(tmp_path, pool):
    shown = database_settings(
        tmp_path, DATABASE_URL=POSTGRES, DATABASE_PREPARED_STATEMENTS="true", DATABASE_POOL=pool
    )
    assert shown["options"]["server_side_binding"] is True
    assert shown["options"]["prepare_threshold"] == 5
    assert ("pool" in shown["options"]) is (pool == "true")


def test_prepared_statements_mean_nothing_to_sqlite(tmp_path):
    shown = database_settings(tmp_path, DATABASE_PREPARED_STATEMENTS="true")
    assert "server_side_binding" not in shown["options"]
