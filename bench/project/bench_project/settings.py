"""One Django project serving all contenders side by side, so they share every setting:
floor views (/floor/...), oauth_token (/oauth/token) and django-oauth-toolkit (/dot/...)."""

import os

import environ

env = environ.Env()
BASE = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "bench-secret-key-0123456789-not-for-production"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "bench_project.urls"
WSGI_APPLICATION = "bench_project.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "oauth_token",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
TEMPLATES = [
    {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}
]
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{os.path.join(BASE, '..', 'bench.sqlite3')}"
    )
}
# Persistent connections (one per sync worker), as the README's production checklist says;
# BENCH_DB_POOL=1 measures psycopg's pool instead (PostgreSQL only).
DATABASES["default"]["CONN_MAX_AGE"] = None
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if os.environ.get("BENCH_DB_POOL") == "1" and "postgresql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 2}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several gunicorn workers write concurrently: take the write lock at BEGIN (a deferred
    # transaction that upgrades fails at once with "database is locked") and use WAL so
    # readers never wait for writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://bench")}
LOGGING = {"version": 1, "disable_existing_loggers": False}

OAUTH_TOKEN = {
    "ISSUER": "http://127.0.0.1:8000/",
    "KEY_ENCRYPTION_KEY": "bench-key-encryption-key-0123456789abcdef",
    # Pre-generated proofs and assertions are replayed over a bounded run.
    "CLIENT_ASSERTION_MAX_LIFETIME": 3600,
    "AUTHORIZATION_CODE_LIFETIME": 3600,
    "DPOP_IAT_WINDOW": 3600,
}
OAUTH2_PROVIDER = {
    "SCOPES": {"read:things": "read", "write:things": "write"},
    "DEFAULT_SCOPES": ["read:things"],
}
