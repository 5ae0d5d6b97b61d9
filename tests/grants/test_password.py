"""The password grant (RFC 6749 §4.3, Auth0's Resource Owner Password grant) and its
brute-force protection."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import override_settings

from oauth_token.registry import keyring, provisioning

pytestmark = pytest.mark.django_db

API = "https://api.example.com"
PASSWORD = "correct horse battery staple"


class CountingHasher(MD5PasswordHasher):
    """MD5 that counts how often a password is hashed, to show unknown users cost the same."""

    calls: ClassVar[int] = 0

    def encode(self, password: str, salt: str) -> str:
        type(self).calls += 1
        return super().encode(password, salt)


COUNTING_HASHER = f"{__name__}.CountingHasher"


class FakeTime:
    """Stands in for the ``time`` module where the cache and the throttle read the clock, so
    a test can move past a lockout window without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    for module in (
        "django.core.cache.backends.base",
        "django.core.cache.backends.locmem",
        "oauth_token.core.throttle",
    ):
        monkeypatch.setattr(f"{module}.time", fake)
    return fake


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def password_client(make_client: Any, api: Any) -> tuple[str, str]:
    """(client_id, secret) of a confidential client allowed the password grant."""
    client, secret = make_client(name="Legacy app", grant_types=["password", "refresh_token"])
    return client.client_id, secret


@pytest.fixture
def login(token_request: Any, password_client: tuple[Any, str], signing_keys: Any) -> Any:
    """POST a password grant for ``username``/``password`` from ``ip``."""

    def post(
        username: str = "alice",
        password: str = PASSWORD,
        ip: str = "198.51.100.7",
        **extra: str,
    ) -> Any:
        data = {"grant_type": "password", "username": username, "password": password}
        data.setdefault("audience", API)
        data.update(extra)
        return token_request(data, auth=password_client, REMOTE_ADDR=ip)

    return post


def decode(token: str, audience: str | list[str] = API) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    alg, key = keyring.verification_key(header["kid"])
    return jwt.decode(token, key, algorithms=[alg], audience=audience)


def assert_error(response: Any, status: int, error: str, description: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    if description is not None:
        assert body["error_description"] == description
    assert response["Cache-Control"] == "no-store"


# --- success ----------------------------------------------------------------------------


def test_issues_access_token_for_the_user(login, user, password_client):
    response = login(scope="read:things write:things")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read:things write:things"
    assert body["expires_in"] == 86400
    assert response["Cache-Control"] == "no-store"
    claims = decode(body["access_token"])
    assert claims["sub"] == str(user.pk)
    assert claims["aud"] == API
    assert claims["client_id"] == password_client[0]
    assert claims["scope"] == "read:things write:things"


def test_accepts_a_json_body(token_request, password_client, signing_keys, user, api):
    response = token_request(
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "audience": API},
        auth=password_client,
        json=True,
    )
    assert response.status_code == 200, response.content
    assert decode(response.json()["access_token"])["sub"] == str(user.pk)


def test_unknown_scopes_are_ignored_and_offline_access_needs_an_api_that_allows_it(login, user):
    response = login(scope="read:things made:up offline_access")
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read:things"
    assert "refresh_token" not in response.json()


def test_no_audience_and_no_openid_is_invalid_scope(login, user):
    response = login(audience="", scope="read:things")
    assert_error(response, 400, "invalid_scope")


def test_unknown_audience_is_invalid_target(login, user):
    assert_error(login(audience="https://nope.example.com"), 400, "invalid_target")


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["username", "password"])
def test_missing_credentials_are_invalid_request(
    token_request, password_client, signing_keys, api, missing
):
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD, "audience": API}
    del data[missing]
    response = token_request(data, auth=password_client)
    assert_error(response, 400, "invalid_request", f"Missing required parameter: {missing}.")


def test_wrong_password_is_invalid_grant(login, user):
    assert_error(login(password="wrong"), 400, "invalid_grant", "Wrong email or password.")


def test_unknown_user_gets_the_same_answer_and_costs_one_hash_like_a_known_one(login, user):
    with override_settings(PASSWORD_HASHERS=[COUNTING_HASHER]):
        CountingHasher.calls = 0
        known = login(password="wrong")
        known_calls, CountingHasher.calls = CountingHasher.calls, 0
        unknown = login(username="mallory", password="wrong")
        unknown_calls = CountingHasher.calls
    assert known.json() == unknown.json()
    assert known.status_code == unknown.status_code == 400
    assert known_calls == unknown_calls == 1


def test_inactive_user_is_invalid_grant(login, user):
    user.is_active = False
    user.save()
    assert_error(login(), 400, "invalid_grant", "Wrong email or password.")


@override_settings(
    AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.AllowAllUsersModelBackend"]
)
def test_inactive_user_is_told_the_account_is_blocked_once_the_password_is_right(login, user):
    user.is_active = False
    user.save()
    assert_error(login(), 400, "invalid_grant", "The user account is blocked.")
    assert_error(login(password="wrong"), 400, "invalid_grant", "Wrong email or password.")


def test_client_without_the_password_grant_is_unauthorized(
    token_request, make_client, signing_keys, user, api
):
    client, secret = make_client(name="Machine", grant_types=["client_credentials"])
    response = token_request(
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "audience": API},
        auth=(client.client_id, secret),
    )
    assert_error(response, 400, "unauthorized_client")


def test_wrong_client_secret_is_invalid_client(
    token_request, password_client, signing_keys, user, api
):
    response = token_request(
        {"grant_type": "password", "username": "alice", "password": PASSWORD, "audience": API},
        auth=(password_client[0], "not-the-secret"),
    )
    assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic ")


# --- brute-force protection -------------------------------------------------------------

LIMITS = {
    "PASSWORD_MAX_FAILURES_PER_USER": 3,
    "PASSWORD_MAX_FAILURES_PER_IP": 5,
    "PASSWORD_FAILURE_WINDOW": 600,
}


@pytest.fixture
def limits(settings: Any) -> dict[str, int]:
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, **LIMITS}
    return LIMITS


def test_user_is_locked_after_n_failures_even_with_the_right_password(login, user, limits):
    for _ in range(3):
        assert_error(login(password="wrong"), 400, "invalid_grant")
    response = login()
    assert_error(response, 429, "too_many_attempts")
    assert 1 <= int(response["Retry-After"]) <= 600
    # Another address does not unlock the user.
    assert_error(login(ip="203.0.113.9"), 429, "too_many_attempts")


def test_locked_attempts_do_not_check_the_password(login, user, limits):
    for _ in range(3):
        login(password="wrong")
    with override_settings(PASSWORD_HASHERS=[COUNTING_HASHER]):
        CountingHasher.calls = 0
        assert_error(login(), 429, "too_many_attempts")
        assert CountingHasher.calls == 0


def test_user_lock_does_not_affect_other_users_from_the_same_address(login, user, limits):
    get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    for _ in range(3):
        login(password="wrong")
    assert login(username="bob").status_code == 200


def test_unknown_usernames_are_locked_like_real_ones(login, user, limits):
    for _ in range(3):
        assert_error(login(username="ghost", password="x"), 400, "invalid_grant")
    assert_error(login(username="ghost", password="x"), 429, "too_many_attempts")


def test_username_counter_ignores_case(login, user, limits):
    for name in ("alice", "ALICE", "Alice"):
        login(username=name, password="wrong")
    assert_error(login(), 429, "too_many_attempts")


def test_address_is_locked_after_n_failures_across_usernames(login, user, limits):
    for i in range(5):
        assert_error(login(username=f"guess{i}", password="x"), 400, "invalid_grant")
    response = login()
    assert_error(response, 429, "too_many_attempts")
    assert "address" in response.json()["error_description"]
    # The same user from another address is fine: alice herself had no failures.
    assert login(ip="203.0.113.9").status_code == 200


def test_success_resets_the_users_counter(login, user, limits):
    for _ in range(2):
        login(password="wrong")
    assert login().status_code == 200
    for _ in range(2):
        login(password="wrong")
    assert login().status_code == 200


def test_success_does_not_reset_the_address_counter(login, user, limits):
    get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    for i in range(4):
        login(username=f"guess{i}", password="x")
    assert login().status_code == 200
    login(username="guess9", password="x")
    assert_error(login(username="bob"), 429, "too_many_attempts")


def test_lock_lasts_until_the_window_passes(login, user, limits, clock):
    for _ in range(3):
        login(password="wrong")
    clock.advance(300)
    response = login()
    assert_error(response, 429, "too_many_attempts")
    assert 290 <= int(response["Retry-After"]) <= 301
    clock.advance(301)
    assert login().status_code == 200


def test_window_starts_with_the_first_failure(login, user, limits, clock):
    login(password="wrong")
    clock.advance(599)
    login(password="wrong")
    clock.advance(2)
    # The first window is over, so the second failure opened a new one with a count of one.
    login(password="wrong")
    assert login().status_code == 200


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
)
def test_throttle_fails_closed_when_the_cache_is_down(login, user):
    response = login()
    assert_error(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "2"


def test_offline_access_brings_a_refresh_token_that_works(
    login, user, token_request, password_client
):
    provisioning.create_api(
        identifier="https://offline.example.com",
        name="Offline",
        scopes=["read:things"],
        allow_offline_access=True,
    )
    response = login(audience="https://offline.example.com", scope="read:things offline_access")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "read:things offline_access"
    refreshed = token_request(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=password_client,
    )
    assert refreshed.status_code == 200, refreshed.content
    claims = decode(refreshed.json()["access_token"], "https://offline.example.com")
    assert claims["sub"] == str(user.pk)


def test_openid_brings_an_id_token_for_the_client(login, user, password_client):
    user.first_name, user.last_name = "Alice", "Liddell"
    user.save()
    before = int(time.time())
    response = login(scope="openid profile read:things")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "openid profile read:things"
    alg, key = keyring.verification_key(jwt.get_unverified_header(body["id_token"])["kid"])
    id_claims = jwt.decode(body["id_token"], key, algorithms=[alg], audience=password_client[0])
    assert id_claims["sub"] == str(user.pk)
    assert id_claims["name"] == "Alice Liddell"
    assert id_claims["preferred_username"] == "alice"
    assert before <= id_claims["auth_time"] <= int(time.time())
    assert "nonce" not in id_claims


def test_openid_alone_without_an_audience_is_an_oidc_login(login, user, password_client):
    response = login(audience="", scope="openid email")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "openid email"
    assert "id_token" in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(user.pk)


def test_discovery_lists_the_password_grant(api_client, signing_keys):
    metadata = api_client.get("/.well-known/openid-configuration").json()
    assert "password" in metadata["grant_types_supported"]
