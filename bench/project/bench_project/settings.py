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
# Prepared statements (the README's production checklist): psycopg binds parameters on the
# server and prepares a statement after its fifth use, so PostgreSQL stops planning the write
# paths' joins on every request. Every contender (floors, oauth_token, django-oauth-toolkit)
# shares it; BENCH_DB_PREPARED_STATEMENTS=0 measures Django's default (client-side binding).
if (
    os.environ.get("BENCH_DB_PREPARED_STATEMENTS", "1") == "1"
    and "postgresql" in DATABASES["default"]["ENGINE"]
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
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
    # Several benches may share one Redis: give each its own prefix.
    "CACHE_KEY_PREFIX": env.str("BENCH_CACHE_KEY_PREFIX", default="oauth_token"),
}


def _dot_oidc_key() -> str:
    """django-oauth-toolkit signs ID tokens with this RSA key (ours sign with RS256 too)."""
    path = os.path.join(BASE, "..", "..", ".work", "dot-oidc.pem")
    if not os.path.exists(path):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        os.makedirs(os.path.dirname(path), exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with open(path, "wb") as handle:
            handle.write(pem)
    with open(path) as handle:
        return handle.read()


OAUTH2_PROVIDER = {
    "SCOPES": {
        "read:things": "read",
        "write:things": "write",
        "openid": "OpenID Connect",
        "profile": "profile",
        "offline_access": "offline access",
    },
    "DEFAULT_SCOPES": ["read:things"],
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _dot_oidc_key(),
    "PKCE_REQUIRED": True,
}
# The password scenario measures the servers, not the password hasher: a fast hasher, the
# same for every contender and the floor (never for production).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
