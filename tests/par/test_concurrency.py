"""Of many simultaneous presentations of one request_uri, exactly one gets the request."""

from __future__ import annotations

import pytest

from oauth_token.authorize import par
from oauth_token.errors import InvalidRequestUri
from tests.race import race, requires_postgres

from .conftest import authorization_request, row_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 24


@requires_postgres()
def test_parallel_redemptions_of_one_request_uri_succeed_once(web_client, push):
    client, secret = web_client
    request_uri = push(authorization_request(), auth=(client.client_id, secret)).json()[
        "request_uri"
    ]

    results = race(lambda: par.consume(client.client_id, request_uri), PARALLEL)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if not isinstance(r, dict)]
    assert len(winners) == 1
    assert winners[0]["code_challenge"] == authorization_request()["code_challenge"]
    assert len(losers) == PARALLEL - 1
    assert all(isinstance(r, InvalidRequestUri) for r in losers), losers
    assert row_for(request_uri).consumed_at is not None
