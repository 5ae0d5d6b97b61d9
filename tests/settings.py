"""Test settings: SQLite by default, PostgreSQL when DATABASE_URL says so; local-memory cache
by default, Redis for tests that ask for it (see tests/conftest.py)."""

import os
import tempfile

import environ

env = environ.Env()

SECRET_KEY = "test-secret-key-not-for-production-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth_token",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_sqlite_file = os.path.join(tempfile.gettempdir(), f"oauth_token_tests_{os.getpid()}.sqlite3")
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{_sqlite_file}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so tests can share the database with a second process.
    DATABASES["default"]["TEST"] = {"NAME": _sqlite_file}

if (
    os.environ.get("TEST_PREPARED_STATEMENTS") == "1"
    and "postgresql" in (DATABASES["default"]["ENGINE"])
):
    # The README's recommended PostgreSQL options (server-side binding, statements prepared
    # after their fifth use): CI runs the suite once more with them (.ci/run).
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "oauth-token-tests",
    },
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"

OAUTH_TOKEN = {
    "ISSUER": "https://auth.example.test/",
    "KEY_ENCRYPTION_KEY": "test-key-encryption-key-0123456789abcdef",
    # Tests serve jwks_uri, metadata documents and logout endpoints on 127.0.0.1;
    # tests/security/test_outbound_fetch_attacks.py turns this off to show the default refuses.
    "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": True,
    # Tests create keys from a pool (the `signing_keys` fixture); a key made while the test
    # database is created would outlive every test's rollback. tests/firstday turns it on.
    "CREATE_SIGNING_KEY_ON_MIGRATE": False,
}
