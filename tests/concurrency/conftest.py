"""Two gunicorn workers sharing the test database and Redis: see tests/live_workers.py."""

from tests.live_workers import _share_the_workers_cache, two_workers, worker_pair

__all__ = ["_share_the_workers_cache", "two_workers", "worker_pair"]
