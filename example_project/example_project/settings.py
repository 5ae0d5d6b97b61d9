"""Settings of the example project, configured only through the environment (django-environ).

| variable                   | default                                                   |
|----------------------------|-----------------------------------------------------------|
| DATABASE_URL               | SQLite file example_project/db.sqlite3                    |
| CACHE_URL                  | local memory (redis://127.0.0.1:6379/0 for several workers)|
| SECRET_KEY, DEBUG, ALLOWED_HOSTS | development values (a warning when DEBUG is off)    |
| OAUTH_ISSUER               | http://127.0.0.1:8000/ (or $PORT, or quickstart's --port)  |
| OAUTH_KEY_ENCRYPTION_KEY   | a development value in DEBUG; required otherwise          |
| OAUTH_OLD_KEY_ENCRYPTION_KEYS | none (comma-separated; for `oauth_keys reseal`)        |
| OAUTH_REGISTRATION         | closed (token or open to allow dynamic client registration)|
| OAUTH_CLIENT_ID_METADATA_DOCUMENTS | false (true: an https client_id is fetched)       |
| OAUTH_OUTBOUND_CA_FILE     | none: the system's CAs (a PEM file of CAs to trust instead)|
| DATABASE_PREPARED_STATEMENTS | false (true: PostgreSQL prepares the statements it repeats)|
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
_DEV_SECRET_KEY = "django-insecure-example-project-development-only-0123456789"
_DEV_ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_DEV_ALLOWED_HOSTS)
# Read by demo.checks: development defaults still in use (a warning when DEBUG is off).
EXAMPLE_DEV_DEFAULTS = [
    name
    for name, in_use in (
        ("SECRET_KEY", SECRET_KEY == _DEV_SECRET_KEY),
        ("ALLOWED_HOSTS", ALLOWED_HOSTS == _DEV_ALLOWED_HOSTS),
    )
    if in_use
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth_token",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# README "Production checklist": connections stay open between requests (CONN_MAX_AGE, seconds;
# unset = forever, 0 = one per request), checked before reuse; DATABASE_POOL=1 uses psycopg's
# connection pool instead (PostgreSQL, `pip install "psycopg[pool]"`; suits threaded workers).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=None)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# DATABASE_PREPARED_STATEMENTS=1: psycopg binds parameters on the server and prepares a
# statement after its fifth use (README "Production checklist"; not behind PgBouncer < 1.21).
if env.bool("DATABASE_PREPARED_STATEMENTS", default=False) and (
    "postgresql" in DATABASES["default"]["ENGINE"]
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if env.bool("DATABASE_POOL", default=False) and "postgresql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 4}
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # RFC 6750 401s also for views protected by DRF's own permission classes.
    "EXCEPTION_HANDLER": "oauth_token.authentication.exception_handler",
}

OAUTH_TOKEN = {
    # `quickstart` serves on $PORT (default 8000); the default issuer follows it.
    "ISSUER": env.str("OAUTH_ISSUER", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}/"),
    # Encrypts private signing keys at rest. A fixed development value keeps `runserver`
    # friction-free; outside DEBUG it must be set (`manage.py check` reports oauth_token.E002).
    "KEY_ENCRYPTION_KEY": env.str(
        "OAUTH_KEY_ENCRYPTION_KEY",
        default="example-project-development-kek-0123456789" if DEBUG else None,
    ),
    # Former key-encryption keys (comma-separated), accepted for decryption until
    # `manage.py oauth_keys reseal` has re-encrypted everything under the new one.
    "OLD_KEY_ENCRYPTION_KEYS": env.list("OAUTH_OLD_KEY_ENCRYPTION_KEYS", default=[]),
    "RESOURCE_SERVER_AUDIENCE": "https://api.example.com",
    # Client jwks_uri, metadata documents and back-channel logout URIs on 127.0.0.1 work while
    # developing; in production only public addresses are fetched (no SSRF into the network).
    "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": DEBUG,
    # Dynamic client registration (RFC 7591): closed, token or open. `open` lets MCP clients
    # register themselves (see `manage.py mcp_demo`).
    "REGISTRATION": env.str("OAUTH_REGISTRATION", default="closed"),
    # Client ID Metadata Documents: an MCP client may use the https URL of its metadata as its
    # client_id instead of registering. OUTBOUND_CA_FILE trusts another CA for such fetches.
    "CLIENT_ID_METADATA_DOCUMENTS": env.bool("OAUTH_CLIENT_ID_METADATA_DOCUMENTS", default=False),
    "OUTBOUND_CA_FILE": env.str("OAUTH_OUTBOUND_CA_FILE", default=None),
    # With a shared cache: how long a worker may go on trusting its snapshots of clients, APIs
    # and keys before it checks for another process's change (0: on every request).
    "CHANGE_CHECK_INTERVAL": env.float("OAUTH_CHANGE_CHECK_INTERVAL", default=1.0),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"oauth_token": {"handlers": ["console"], "level": "INFO"}},
}
