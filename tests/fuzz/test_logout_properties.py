"""Property: whatever reaches /oidc/logout (any value of any parameter, GET or POST, signed in
or not) the answer is a page (200), an error page (400) or a redirect to exactly a registered
post_logout_redirect_uri, with ``state`` as the only addition; never a 500, never a redirect
anywhere else (OIDC RP-Initiated Logout 1.0 §3)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.authorize.fixtures import *  # noqa: F403
from tests.logout.fixtures import *  # noqa: F403
from tests.logout.fixtures import LOGGED_OUT, OTHER_LOGGED_OUT

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = ["id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint"]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.fixture
def known(rp_client, sign_in_with):
    client, secret = rp_client()
    signed_in = sign_in_with(client, secret)
    return {
        "id_token_hint": [signed_in.id_token, signed_in.id_token[:-4] + "AAAA"],
        "client_id": [client.client_id],
        "post_logout_redirect_uri": [LOGGED_OUT, OTHER_LOGGED_OUT, LOGGED_OUT + "/"],
        "state": ["s"],
        "logout_hint": ["alice"],
    }


def values(known_values: list[str]) -> st.SearchStrategy[list[str]]:
    one = st.one_of(TEXT, st.sampled_from(known_values))
    return st.lists(one, min_size=0, max_size=2)


@PROPERTY_SETTINGS
@given(data=st.data(), method=st.sampled_from(["get", "post"]), signed_in=st.booleans())
def test_logout_never_fails_and_only_redirects_to_registered_uris(
    browser, user, known, data, method, signed_in
):
    if signed_in:
        browser.force_login(user)
    else:
        browser.logout()
    params = {name: data.draw(values(known[name]), label=name) for name in NAMES}
    response = getattr(browser, method)("/oidc/logout", {k: v for k, v in params.items() if v})
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code != 302:
        return
    location = urlsplit(response["Location"])
    base = f"{location.scheme}://{location.netloc}{location.path}"
    assert base in (LOGGED_OUT, OTHER_LOGGED_OUT)
    assert params["post_logout_redirect_uri"] == [base]
    query = parse_qs(location.query, keep_blank_values=True)
    assert set(query) <= {"state"}
    if query:
        assert query["state"] == params["state"]
