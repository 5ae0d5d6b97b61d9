"""Settings for live servers that tests start in subprocesses (tests/services.py): the test
settings, but the database and cache named by LIVE_DATABASE_URL / LIVE_CACHE_URL, persistent
database connections (as production runs), and one log line per record on stderr."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import env

DATABASES = {"default": env.db_url_config(os.environ["LIVE_DATABASE_URL"])}
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("LIVE_CONN_MAX_AGE", "60"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {"connect_timeout": 2}

_cache_url = os.environ.get("LIVE_CACHE_URL", "locmem://")
if _cache_url.startswith("redis://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if os.environ.get("LIVE_CACHE_PREFIX"):
    OAUTH_TOKEN = {**OAUTH_TOKEN, "CACHE_KEY_PREFIX": os.environ["LIVE_CACHE_PREFIX"]}  # noqa: F405
if os.environ.get("LIVE_CHANGE_CHECK_INTERVAL"):
    OAUTH_TOKEN = {
        **OAUTH_TOKEN,
        "CHANGE_CHECK_INTERVAL": float(os.environ["LIVE_CHANGE_CHECK_INTERVAL"]),
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # runserver's access log is not an application log line.
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
