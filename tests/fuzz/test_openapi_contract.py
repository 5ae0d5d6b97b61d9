"""docs/openapi.yaml checked against a live server with schemathesis (Python API).

For every operation of the description that this build serves, schemathesis generates
requests — schema-conforming and deliberately non-conforming ones — and each response must
be no server error, have a documented status code and content type, and match the documented
body schema (RFC 6749 §5.2 errors included). A few hundred requests per endpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services import LiveServer, database_url

from .conftest import assert_rfc6749_error, mounted_endpoints

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        __import__("django.db").db.connection.vendor != "postgresql",
        reason="HTTP-level contract, independent of the database: CI runs it once, in the "
        "PostgreSQL pass (set DATABASE_URL=postgres://... to run it locally)",
    ),
]

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
EXAMPLES_PER_OPERATION = 300  # generated requests per endpoint, positive and negative mixed
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _operations() -> list[tuple[str, str]]:
    schema = schemathesis.openapi.from_path(str(SPEC))
    served = set(mounted_endpoints()) | {
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    }
    ops = []
    for path, methods in schema.raw_schema["paths"].items():
        if path in served:
            ops.extend((path, method.upper()) for method in methods)
    return ops


@pytest.fixture(scope="module")
def schema():
    return schemathesis.openapi.from_path(str(SPEC))


@pytest.fixture
def live(tmp_path, fuzz_target):
    server = LiveServer(tmp_path, database=database_url(), cache="locmem://")
    with server:
        yield server


def test_description_is_valid_openapi_and_covers_every_served_endpoint(schema):
    documented = set(schema.raw_schema["paths"])
    assert set(mounted_endpoints()) <= documented


@pytest.mark.parametrize(("path", "method"), _operations())
def test_generated_requests_conform_to_the_description(schema, live, fuzz_target, path, method):
    operation = schema[path][method]
    client_id, secret = fuzz_target
    session = requests.Session()
    server_errors: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data):
        mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        if method == "POST" and data.draw(st.booleans()):
            case.headers = {
                **(case.headers or {}),
                "Authorization": requests.auth._basic_auth_str(client_id, secret),
            }
        response = case.call(base_url=live.url, session=session, timeout=30)
        if response.status_code >= 500 and response.status_code != 503:
            server_errors.append(f"{response.status_code} {response.text[:200]}")
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400:
            content_type = (response.headers.get("content-type") or [""])[0]
            assert_rfc6749_error(response.status_code, content_type, response.content)

    run()
    assert server_errors == []
    assert "Traceback" not in live.log_path.read_text()
