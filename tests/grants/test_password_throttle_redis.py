"""The password lockout counters on a real Redis shared by concurrent requests: no failure is
lost when many arrive at once, and every counter carries the window as its TTL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from oauth_token.core.lockout import PasswordThrottle
from oauth_token.errors import TooManyAttempts
from tests.services import require_shared_redis

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

ALIAS = "throttle-redis"


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[Any]:
    """A cache alias on the machine's Redis (REDIS_URL), with a key prefix of this test's
    own; only keys under that prefix are deleted afterwards."""
    url = require_shared_redis()
    prefix = f"grants2-test-{uuid.uuid4().hex[:12]}"
    caches_setting = {
        **settings.CACHES,
        ALIAS: {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
    }
    with override_settings(CACHES=caches_setting):
        settings.OAUTH_TOKEN = {
            **settings.OAUTH_TOKEN,
            "CACHE_ALIAS": ALIAS,
            "CACHE_KEY_PREFIX": prefix,
            "PASSWORD_MAX_FAILURES_PER_USER": 1000,
            "PASSWORD_MAX_FAILURES_PER_IP": 1000,
            "PASSWORD_FAILURE_WINDOW": 600,
        }
        cache = caches[ALIAS]
        try:
            yield cache
        finally:
            client = cache._cache.get_client(write=True)
            doomed = list(client.scan_iter(match=f"*{prefix}*"))
            if doomed:
                client.delete(*doomed)


def test_concurrent_failures_are_all_counted(redis_cache):
    throttle = PasswordThrottle("alice", "198.51.100.7")

    def fail(_: int) -> None:
        PasswordThrottle("alice", "198.51.100.7").begin()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fail, range(64)))
    assert redis_cache.get(throttle.user.key) == 64
    assert redis_cache.get(throttle.ip.key) == 64
    client = redis_cache._cache.get_client()
    for key in (throttle.user.key, throttle.ip.key):
        assert 0 < client.ttl(redis_cache.make_and_validate_key(key)) <= 600


def test_lockout_and_reset_through_redis(redis_cache, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_USER": 3}
    throttle = PasswordThrottle("Alice", "198.51.100.7")
    for _ in range(3):
        throttle.begin()  # three attempts that fail
    elsewhere = PasswordThrottle("alice", "203.0.113.1")
    with pytest.raises(TooManyAttempts) as locked:
        elsewhere.begin()
    assert 1 <= int(locked.value.headers["Retry-After"]) <= 600
    throttle.succeeded()  # an administrator's reset, or a success from the first address
    elsewhere.begin()
    elsewhere.succeeded()
    assert redis_cache.get(throttle.ip.key) == 2
    assert redis_cache.get(elsewhere.ip.key) == 1


def test_a_parallel_burst_gets_exactly_the_limit_through(redis_cache, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_USER": 5}

    def guess(i: int) -> bool:
        try:
            PasswordThrottle("alice", f"198.51.100.{i}").begin()
        except TooManyAttempts:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = list(pool.map(guess, range(40)))
    assert admitted.count(True) == 5


@pytest.fixture
def redis_commands(redis_cache) -> Iterator[list[str]]:
    """Every command the cache's redis-py client sends, by name (observed, not replaced)."""
    import redis

    sent: list[str] = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    redis.Redis.execute_command = counting
    try:
        yield sent
    finally:
        redis.Redis.execute_command = original


def test_an_attempt_and_its_success_cost_two_round_trips(redis_cache, redis_commands):
    throttle = PasswordThrottle("alice", "198.51.100.7")
    throttle.begin()
    throttle.succeeded()
    assert redis_commands == ["EVAL", "EVAL"]
    assert redis_cache.get(throttle.user.key) is None  # cleared
    assert redis_cache.get(throttle.ip.key) == 0  # its attempt given back, window still open


def test_retry_after_comes_from_the_window_left_on_redis(redis_cache, settings):
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_USER": 1}
    PasswordThrottle("alice", "198.51.100.7").begin()
    client = redis_cache._cache.get_client(write=True)
    key = redis_cache.make_and_validate_key(PasswordThrottle("alice", "x").user.key)
    client.expire(key, 42)
    with pytest.raises(TooManyAttempts) as locked:
        PasswordThrottle("alice", "198.51.100.8").begin()
    assert 40 <= int(locked.value.headers["Retry-After"]) <= 42


def test_a_counter_that_lost_its_expiry_is_given_one_back(redis_cache):
    throttle = PasswordThrottle("alice", "198.51.100.7")
    client = redis_cache._cache.get_client(write=True)
    key = redis_cache.make_and_validate_key(throttle.user.key)
    client.set(key, 3)  # no TTL: e.g. written by hand, or by a DECR of a vanished key
    throttle.begin()
    assert redis_cache.get(throttle.user.key) == 4
    assert 0 < client.ttl(key) <= 600


def test_giving_back_after_the_window_ended_leaves_no_key_behind(redis_cache):
    throttle = PasswordThrottle("alice", "198.51.100.7")
    throttle.begin()
    client = redis_cache._cache.get_client(write=True)
    client.delete(redis_cache.make_and_validate_key(throttle.ip.key))  # the window ended
    throttle.succeeded()
    assert client.exists(redis_cache.make_and_validate_key(throttle.ip.key)) == 0


def test_a_burst_of_successful_logins_leaves_the_account_usable(redis_cache, settings):
    """Twelve sessions of one person signing in at once (a limit of 10): some may be refused
    while the burst lasts, but once it is over the next sign-in goes through."""
    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "PASSWORD_MAX_FAILURES_PER_USER": 10}

    def sign_in(i: int) -> bool:
        throttle = PasswordThrottle("alice", f"198.51.100.{i}")
        try:
            throttle.begin()
        except TooManyAttempts:
            return False
        throttle.succeeded()
        return True

    for _ in range(5):
        with ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(sign_in, range(12)))
    assert sign_in(99)
