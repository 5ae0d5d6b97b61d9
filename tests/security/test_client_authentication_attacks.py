"""Attacks on client authentication at the token endpoint.

RFC 6749 §2.3 / §5.2, RFC 6819 §4.3.1 (obtaining client secrets), §5.2.3 (client
authentication), RFC 9700 §2.5 (client authentication) and §4.x. Each case asserts the status,
the error code and that the database is unchanged.
"""

from __future__ import annotations

import base64
import hmac
import logging

import pytest

from oauth_token.models import Client
from oauth_token.registry import provisioning
from tests import kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def basic_client(signing_keys, api):
    return kit.secret_client(api)


@pytest.fixture
def post_client(signing_keys, api):
    return kit.secret_client(api, "client_secret_post")


def _basic_raw(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


def _comparable(response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.items() if k.lower() not in ("date",)}
    return response.status_code, response.content, headers


def test_unknown_client_is_invalid_client_with_basic_challenge(
    basic_client, token_request, cc_form, unchanged
):
    unchanged()
    response = token_request(cc_form, auth=("no-such-client", "whatever"))
    kit.assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_wrong_secret_is_invalid_client(basic_client, token_request, cc_form, unchanged):
    client, _ = basic_client
    unchanged()
    response = token_request(cc_form, auth=(client.client_id, "wrong"))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_unknown_client_and_wrong_secret_are_indistinguishable_basic(
    basic_client, token_request, cc_form
):
    """RFC 6819 §4.3.1 / enumeration: identical status, body and headers."""
    client, _ = basic_client
    unknown = token_request(cc_form, auth=("no-such-client", "x" * 43))
    wrong = token_request(cc_form, auth=(client.client_id, "x" * 43))
    assert _comparable(unknown) == _comparable(wrong)


def test_unknown_client_and_wrong_secret_are_indistinguishable_post(
    post_client, token_request, cc_form
):
    client, _ = post_client
    unknown = token_request({**cc_form, "client_id": "nobody", "client_secret": "x"})
    wrong = token_request({**cc_form, "client_id": client.client_id, "client_secret": "x"})
    assert _comparable(unknown) == _comparable(wrong)
    kit.assert_oauth_error(wrong, 401, "invalid_client")


def test_wrong_method_is_indistinguishable_from_unknown_client(post_client, token_request, cc_form):
    """A client registered for client_secret_post presenting its (right) secret via Basic
    learns nothing more than an unknown client would."""
    client, secret = post_client
    wrong_method = token_request(cc_form, auth=(client.client_id, secret))
    unknown = token_request(cc_form, auth=("nobody", secret))
    assert _comparable(wrong_method) == _comparable(unknown)
    assert wrong_method.status_code == 401


def test_inactive_client_is_indistinguishable_from_unknown(
    basic_client, token_request, cc_form, unchanged
):
    client, secret = basic_client
    Client.objects.filter(pk=client.pk).update(is_active=False)
    from oauth_token.core import cache
    from oauth_token.registry import snapshots

    cache.delete(snapshots.client_cache_key(client.client_id))
    unchanged()
    inactive = token_request(cc_form, auth=(client.client_id, secret))
    unknown = token_request(cc_form, auth=("nobody", secret))
    assert _comparable(inactive) == _comparable(unknown)
    kit.assert_oauth_error(inactive, 401, "invalid_client")


def test_deleted_client_secret_stops_working_at_once(basic_client, token_request, cc_form):
    client, secret = basic_client
    assert token_request(cc_form, auth=(client.client_id, secret)).status_code == 200
    client.delete()
    kit.assert_oauth_error(
        token_request(cc_form, auth=(client.client_id, secret)), 401, "invalid_client"
    )


def test_truncated_secret_is_refused(basic_client, token_request, cc_form, unchanged):
    client, secret = basic_client
    unchanged()
    response = token_request(cc_form, auth=(client.client_id, secret[:-1]))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_secret_with_extra_suffix_is_refused(basic_client, token_request, cc_form, unchanged):
    client, secret = basic_client
    unchanged()
    response = token_request(cc_form, auth=(client.client_id, secret + "A"))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_secret_with_changed_case_is_refused(basic_client, token_request, cc_form, unchanged):
    client, secret = basic_client
    unchanged()
    response = token_request(cc_form, auth=(client.client_id, secret.swapcase()))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_other_clients_secret_is_refused(basic_client, api, token_request, cc_form, unchanged):
    client, _ = basic_client
    _, other_secret = kit.secret_client(api)
    unchanged()
    response = token_request(cc_form, auth=(client.client_id, other_secret))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_empty_basic_secret_is_refused(basic_client, token_request, cc_form, unchanged):
    client, _ = basic_client
    unchanged()
    response = token_request(cc_form, HTTP_AUTHORIZATION=_basic_raw(f"{client.client_id}:"))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_basic_without_colon_is_refused(basic_client, token_request, cc_form, unchanged):
    client, _ = basic_client
    unchanged()
    response = token_request(cc_form, HTTP_AUTHORIZATION=_basic_raw(client.client_id))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_malformed_basic_base64_is_refused(token_request, cc_form, signing_keys, unchanged):
    unchanged()
    response = token_request(cc_form, HTTP_AUTHORIZATION="Basic !!!not-base64!!!")
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_non_utf8_basic_credentials_are_refused(token_request, cc_form, signing_keys, unchanged):
    unchanged()
    raw = base64.b64encode(b"\xff\xfe:\xff").decode()
    response = token_request(cc_form, HTTP_AUTHORIZATION=f"Basic {raw}")
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_nul_byte_in_basic_client_id_is_invalid_client_not_500(
    basic_client, token_request, cc_form, unchanged
):
    """PostgreSQL refuses NUL in text; the lookup must not turn that into a server error."""
    client, secret = basic_client
    unchanged()
    response = token_request(cc_form, auth=(client.client_id + "%00", secret))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_control_characters_in_basic_client_id_are_refused(
    basic_client, token_request, cc_form, unchanged
):
    client, secret = basic_client
    unchanged()
    response = token_request(cc_form, auth=(client.client_id + "%0d%0aX-Injected:%201", secret))
    kit.assert_oauth_error(response, 401, "invalid_client")
    assert "X-Injected" not in response


def test_overlong_basic_client_id_is_refused(token_request, cc_form, signing_keys, unchanged):
    unchanged()
    response = token_request(cc_form, auth=("c" * 10_000, "s"))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_unicode_lookalike_client_id_is_refused(basic_client, token_request, cc_form, unchanged):
    client, secret = basic_client
    lookalike = client.client_id.replace(client.client_id[0], "\u0430", 1)  # Cyrillic a
    unchanged()
    response = token_request(cc_form, auth=(lookalike, secret))
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_two_authentication_methods_at_once_are_refused(
    basic_client, token_request, cc_form, unchanged
):
    """RFC 6749 §2.3: a client MUST NOT use more than one method in a request."""
    client, secret = basic_client
    unchanged()
    response = token_request(
        {**cc_form, "client_id": client.client_id, "client_secret": secret},
        auth=(client.client_id, secret),
    )
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_basic_plus_client_assertion_is_refused(basic_client, token_request, unchanged):
    client, secret = basic_client
    unchanged()
    form = kit.assertion_form(kit.secret_assertion(client.client_id, secret))
    response = token_request(form, auth=(client.client_id, secret))
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_body_client_id_contradicting_basic_header_is_refused(
    basic_client, api, token_request, cc_form, unchanged
):
    client, secret = basic_client
    other, _ = kit.secret_client(api)
    unchanged()
    response = token_request(
        {**cc_form, "client_id": other.client_id}, auth=(client.client_id, secret)
    )
    kit.assert_oauth_error(response, 400, "invalid_request")


def test_confidential_client_without_credentials_is_refused(
    basic_client, token_request, cc_form, unchanged
):
    """A confidential client cannot downgrade to ``none`` by omitting its secret."""
    client, _ = basic_client
    unchanged()
    response = token_request({**cc_form, "client_id": client.client_id})
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_no_client_identification_at_all_is_refused(token_request, cc_form, signing_keys):
    kit.assert_oauth_error(token_request(cc_form), 401, "invalid_client")


def test_public_client_cannot_use_client_credentials_even_with_a_grant(
    api, signing_keys, token_request, cc_form, unchanged
):
    """RFC 6749 §4.4: confidential clients only. A public client's id is no secret, so even an
    operator's mistaken grant must not let anyone holding the id mint tokens."""
    created = provisioning.create_client(name="SPA", grant_types=["client_credentials"])
    provisioning.grant(created.client, api, ["read:things"])
    # Provisioning refuses this combination; a row edited by hand (or an older release) may not.
    Client.objects.filter(pk=created.client.pk).update(
        client_type="public", token_endpoint_auth_method="none", secret_digest=""
    )
    from oauth_token.core import cache

    cache.bump_generation()
    unchanged()
    response = token_request({**cc_form, "client_id": created.client.client_id})
    body = kit.assert_oauth_error(response, 400, "unauthorized_client")
    assert "access_token" not in body


def test_public_client_presenting_a_secret_is_refused(signing_keys, token_request, cc_form):
    created = provisioning.create_client(name="SPA", client_type="public")
    response = token_request(
        {**cc_form, "client_id": created.client.client_id, "client_secret": "made-up"}
    )
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_credentials_in_the_query_string_are_ignored(basic_client, api_client, cc_form, unchanged):
    """RFC 6749 §2.3.1: credentials go in the body or header, never the URL (which is logged
    by proxies and kept in history)."""
    from urllib.parse import urlencode

    client, secret = basic_client
    unchanged()
    query = urlencode({"client_id": client.client_id, "client_secret": secret})
    response = api_client.generic(
        "POST",
        f"/oauth/token?{query}",
        urlencode(cc_form),
        content_type="application/x-www-form-urlencoded",
    )
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_unknown_authorization_scheme_is_not_client_authentication(
    basic_client, token_request, cc_form, unchanged
):
    _client, secret = basic_client
    unchanged()
    response = token_request(cc_form, HTTP_AUTHORIZATION=f"Bearer {secret}")
    kit.assert_oauth_error(response, 401, "invalid_client")


def test_client_not_allowed_the_grant_type_gets_unauthorized_client(
    api, signing_keys, token_request, cc_form, unchanged
):
    created = provisioning.create_client(name="Web", grant_types=["authorization_code"])
    unchanged()
    response = token_request(cc_form, auth=(created.client.client_id, created.secret))
    kit.assert_oauth_error(response, 400, "unauthorized_client")


def test_client_without_a_grant_on_the_api_is_denied(signing_keys, api, token_request, unchanged):
    created = provisioning.create_client(name="Ungranted", grant_types=["client_credentials"])
    unchanged()
    response = token_request(
        {"grant_type": "client_credentials", "audience": kit.AUDIENCE},
        auth=(created.client.client_id, created.secret),
    )
    body = kit.assert_oauth_error(response, response.status_code, "access_denied")
    assert response.status_code in (400, 403)
    assert "access_token" not in body


def test_scope_beyond_the_client_grant_is_invalid_scope(
    basic_client, token_request, cc_form, unchanged
):
    client, secret = basic_client
    unchanged()
    response = token_request(
        {**cc_form, "scope": "read:things delete:things"}, auth=(client.client_id, secret)
    )
    kit.assert_oauth_error(response, 400, "invalid_scope")


def test_unknown_audience_is_invalid_target(basic_client, token_request, unchanged):
    client, secret = basic_client
    unchanged()
    response = token_request(
        {"grant_type": "client_credentials", "audience": "https://evil.example/"},
        auth=(client.client_id, secret),
    )
    kit.assert_oauth_error(response, 400, "invalid_target")


def test_lookalike_audience_is_invalid_target(basic_client, token_request, unchanged):
    client, secret = basic_client
    unchanged()
    response = token_request(
        {"grant_type": "client_credentials", "audience": "https://\u0430pi.example.com"},
        auth=(client.client_id, secret),
    )
    kit.assert_oauth_error(response, 400, "invalid_target")


def test_secret_comparison_is_constant_time(basic_client, token_request, cc_form, monkeypatch):
    """STYLE.md / RFC 6819 §5.1.4.1.1: presented secrets are compared with
    ``hmac.compare_digest`` (observed by wrapping it, not by reading the source)."""
    from oauth_token.core import secrets as oauth_secrets

    client, secret = basic_client
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(oauth_secrets.hmac, "compare_digest", spy)
    assert token_request(cc_form, auth=(client.client_id, "wrong")).status_code == 401
    assert token_request(cc_form, auth=(client.client_id, secret)).status_code == 200
    digest = Client.objects.get(pk=client.pk).secret_digest
    assert [b for _, b in calls] == [digest, digest]
    assert secret not in {a for a, _ in calls}, "the secret's digest is compared, not the secret"


def test_unknown_client_still_spends_a_comparison(
    token_request, cc_form, signing_keys, monkeypatch
):
    """Unknown and wrong secrets take the same path through the hash and compare (no
    early return that a timing attacker could see), at least where no client row exists
    for an id that is cached as missing."""
    from oauth_token.token_endpoint import client_auth

    seen: list[str] = []
    real_fail = client_auth.ClientAuthMethod.fail

    def record(self, reason, description=client_auth.GENERIC_FAILURE):
        seen.append(reason)
        return real_fail(self, reason, description)

    monkeypatch.setattr(client_auth.ClientAuthMethod, "fail", record)
    response = token_request(cc_form, auth=("nobody", "secret"))
    kit.assert_oauth_error(response, 401, "invalid_client")
    assert seen == ["unknown client"]


def test_client_secret_is_stored_only_as_a_digest(basic_client):
    """RFC 6819 §5.1.4.1.3: a database dump does not reveal client secrets."""
    client, secret = basic_client
    dump = repr(kit.db_state())
    assert secret not in dump
    assert Client.objects.get(pk=client.pk).secret_digest != secret


def test_client_secret_jwt_secret_is_sealed_at_rest(api, signing_keys):
    client, secret = kit.secret_jwt_client(api)
    row = Client.objects.get(pk=client.pk)
    assert secret not in repr(kit.db_state())
    assert row.secret_sealed.startswith("v1:")


def test_error_never_echoes_the_presented_secret(basic_client, token_request, cc_form, caplog):
    client, _ = basic_client
    presented = "Sup3r-Secret-Guess-0123456789"
    with caplog.at_level(logging.DEBUG):
        response = token_request(cc_form, auth=(client.client_id, presented))
        post = token_request({**cc_form, "client_id": "nobody", "client_secret": presented})
    assert response.status_code == 401 and post.status_code == 401
    assert presented.encode() not in response.content + post.content
    assert presented not in caplog.text
    assert all(presented not in v for v in response.headers.values())


def test_rotated_secret_stops_the_old_one_at_once(basic_client, token_request, cc_form):
    client, old = basic_client
    assert token_request(cc_form, auth=(client.client_id, old)).status_code == 200
    new = provisioning.rotate_secret(client)
    kit.assert_oauth_error(
        token_request(cc_form, auth=(client.client_id, old)), 401, "invalid_client"
    )
    assert token_request(cc_form, auth=(client.client_id, new)).status_code == 200
