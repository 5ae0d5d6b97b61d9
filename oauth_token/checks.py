"""System checks: an operator's mistake is reported by ``manage.py check`` (and runserver),
not discovered by the first client as a 500."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import import_string

from oauth_token.conf import DEFAULTS, oauth_settings
from oauth_token.core import cache, metrics
from oauth_token.core.jose import ASYMMETRIC_ALGORITHMS, SIGNING_KEY_ALGORITHMS
from oauth_token.errors import ConfigurationError
from oauth_token.grants.base import BaseGrant
from oauth_token.models import Api, SigningKey
from oauth_token.registry import sealing


def _issuer_errors() -> list[Any]:
    issuer = oauth_settings.ISSUER
    parts = urlsplit(issuer) if isinstance(issuer, str) else None
    if (
        not parts
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
    ):
        return [
            Error(
                "OAUTH_TOKEN['ISSUER'] must be an absolute http(s) URL without query or fragment.",
                hint="e.g. OAUTH_TOKEN = {'ISSUER': 'https://auth.example.com/'}",
                id="oauth_token.E001",
            )
        ]
    if (
        parts.scheme == "http"
        and not settings.DEBUG
        and parts.hostname not in ("127.0.0.1", "localhost")
    ):
        return [Warning("The issuer is not https.", id="oauth_token.W001")]
    return []


def _kek_errors() -> list[Any]:
    if oauth_settings.KEY_ENCRYPTION_KEY:
        if len(str(oauth_settings.KEY_ENCRYPTION_KEY)) < 32:
            return [
                Error(
                    "OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] must be at least 32 characters.",
                    id="oauth_token.E003",
                )
            ]
        return []
    if settings.DEBUG:
        return [
            Warning(
                "No OAUTH_TOKEN['KEY_ENCRYPTION_KEY']: private keys are sealed with a key derived "
                "from SECRET_KEY (development only).",
                id="oauth_token.W002",
            )
        ]
    return [
        Error(
            "OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] is required when DEBUG is off.",
            hint="Set it from the environment; it encrypts private signing keys at rest.",
            id="oauth_token.E002",
        )
    ]


def _settings_errors() -> list[Any]:
    errors: list[Any] = []
    unknown = set(oauth_settings.user_settings) - set(DEFAULTS)
    if unknown:
        errors.append(
            Error(
                f"Unknown OAUTH_TOKEN setting(s): {', '.join(sorted(unknown))}.",
                id="oauth_token.E004",
            )
        )
    for name in (
        "ACCESS_TOKEN_LIFETIME",
        "ID_TOKEN_LIFETIME",
        "AUTHORIZATION_CODE_LIFETIME",
        "CLIENT_ASSERTION_MAX_LIFETIME",
        "MAX_BODY_BYTES",
        "MAX_PARAMETER_LENGTH",
        "DEVICE_CODE_LIFETIME",
        "DEVICE_CODE_INTERVAL",
        "DEVICE_ACTIVATION_MAX_FAILURES",
        "DEVICE_ACTIVATION_MAX_FAILURES_PER_IP",
        "DEVICE_ACTIVATION_FAILURE_WINDOW",
        "PAR_LIFETIME",
        "DPOP_IAT_WINDOW",
        "DPOP_NONCE_LIFETIME",
        "PASSWORD_MAX_FAILURES_PER_USER",
        "PASSWORD_MAX_FAILURES_PER_IP",
        "PASSWORD_FAILURE_WINDOW",
        "JWT_BEARER_MAX_LIFETIME",
        "AUDIT_LOG_BATCH_SIZE",
        "REGISTRATION_MAX_PER_IP",
        "REGISTRATION_WINDOW",
        "INITIAL_ACCESS_TOKEN_LIFETIME",
    ):
        value = oauth_settings.user_settings.get(name, DEFAULTS[name])
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            errors.append(
                Error(f"OAUTH_TOKEN['{name}'] must be a positive integer.", id="oauth_token.E005")
            )
    for name in ("DEFAULT_SIGNING_ALGORITHM", "ID_TOKEN_SIGNING_ALGORITHM"):
        if oauth_settings.user_settings.get(name, DEFAULTS[name]) not in SIGNING_KEY_ALGORITHMS:
            errors.append(
                Error(
                    f"OAUTH_TOKEN['{name}'] must be one of {', '.join(SIGNING_KEY_ALGORITHMS)}.",
                    id="oauth_token.E006",
                )
            )
    errors += _dpop_errors() + _outbound_errors()
    if oauth_settings.CACHE_ALIAS not in settings.CACHES:
        errors.append(
            Error("OAUTH_TOKEN['CACHE_ALIAS'] names no entry of CACHES.", id="oauth_token.E007")
        )
    elif settings.CACHES[oauth_settings.CACHE_ALIAS].get("BACKEND", "").endswith(".DummyCache"):
        errors.append(
            Error(
                "OAUTH_TOKEN['CACHE_ALIAS'] is a DummyCache: every client assertion and DPoP "
                "proof would look unused, so replayed ones would be accepted.",
                hint="Use local memory for one process, Redis for several workers.",
                id="oauth_token.E050",
            )
        )
    errors += _grant_type_errors()
    try:
        import_string(
            oauth_settings.user_settings.get("CLAIMS_FUNCTION", DEFAULTS["CLAIMS_FUNCTION"])
        )
    except ImportError:
        errors.append(
            Error("OAUTH_TOKEN['CLAIMS_FUNCTION'] cannot be imported.", id="oauth_token.E009")
        )
    return errors


def _refresh_token_errors() -> list[Any]:
    """Refresh-token lifetimes and leeway are seconds (0 = unlimited / no leeway); the
    policy switches are booleans."""
    errors: list[Any] = []
    user = oauth_settings.user_settings
    for name in (
        "REFRESH_TOKEN_ABSOLUTE_LIFETIME",
        "REFRESH_TOKEN_IDLE_LIFETIME",
        "REFRESH_TOKEN_REUSE_LEEWAY",
    ):
        value = user.get(name, DEFAULTS[name])
        if value is None and name != "REFRESH_TOKEN_REUSE_LEEWAY":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(
                Error(
                    f"OAUTH_TOKEN['{name}'] must be a non-negative integer (seconds).",
                    id="oauth_token.E020",
                )
            )
    for name in ("REFRESH_TOKEN_ROTATION", "DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS"):
        if not isinstance(user.get(name, DEFAULTS[name]), bool):
            errors.append(
                Error(f"OAUTH_TOKEN['{name}'] must be True or False.", id="oauth_token.E021")
            )
    return errors


def _dpop_errors() -> list[Any]:
    """RFC 9449 §4.3 step 5: proofs are asymmetric; a known nonce policy."""
    errors: list[Any] = []
    algs = oauth_settings.user_settings.get(
        "DPOP_SIGNING_ALGORITHMS", DEFAULTS["DPOP_SIGNING_ALGORITHMS"]
    )
    if not isinstance(algs, list | tuple) or not algs or not set(algs) <= ASYMMETRIC_ALGORITHMS:
        errors.append(
            Error(
                "OAUTH_TOKEN['DPOP_SIGNING_ALGORITHMS'] must be a non-empty list of asymmetric "
                f"algorithms from: {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}.",
                id="oauth_token.E061",
            )
        )
    policy = oauth_settings.user_settings.get("DPOP_NONCE_POLICY", DEFAULTS["DPOP_NONCE_POLICY"])
    if policy not in ("off", "public", "always"):
        errors.append(
            Error(
                "OAUTH_TOKEN['DPOP_NONCE_POLICY'] must be 'off', 'public' or 'always'.",
                id="oauth_token.E062",
            )
        )
    return errors


def _outbound_errors() -> list[Any]:
    """core/outbound.py's guards: a positive deadline and size, a boolean address switch."""
    user = oauth_settings.user_settings
    problems = []
    timeout = oauth_settings.OUTBOUND_TIMEOUT
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout < 60:
        problems.append("OUTBOUND_TIMEOUT must be a number of seconds between 0 and 60")
    for name in ("OUTBOUND_MAX_BYTES", "OUTBOUND_FAILURE_CACHE_SECONDS"):
        value = user.get(name, DEFAULTS[name])
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            problems.append(f"{name} must be a positive integer")
    if not isinstance(user.get("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", False), bool):
        problems.append("OUTBOUND_ALLOW_PRIVATE_ADDRESSES must be True or False")
    return [Error(f"OAUTH_TOKEN: {p}.", id="oauth_token.E090") for p in problems]


def _migrations_pending() -> bool:
    executor = MigrationExecutor(connection)
    targets = [n for n in executor.loader.graph.leaf_nodes() if n[0] == "oauth_token"]
    return bool(executor.migration_plan(targets))


def _key_errors() -> list[Any]:
    """A current key per algorithm in use. Skipped while oauth_token's migrations are pending,
    so that the first ``migrate`` (before ``oauth_keys rotate``) is not blocked."""
    try:
        if _migrations_pending():
            return []
        needed = {
            oauth_settings.DEFAULT_SIGNING_ALGORITHM,
            oauth_settings.ID_TOKEN_SIGNING_ALGORITHM,
        }
        needed |= set(Api.objects.values_list("signing_alg", flat=True).distinct())
        have = set(SigningKey.objects.filter(state="current").values_list("alg", flat=True))
    except DatabaseError:
        return [Warning("Could not read signing keys from the database.", id="oauth_token.W003")]
    return [
        Error(
            f"There is no current {alg} signing key.",
            hint=f"Run `manage.py oauth_keys rotate --alg {alg}`.",
            id="oauth_token.E010",
        )
        for alg in sorted(needed - have)
    ]


def _grant_type_errors() -> list[Any]:
    """GRANT_TYPES maps each ``grant_type`` to the dotted path of a BaseGrant subclass that
    declares that same ``grant_type``: a mismatch would advertise one grant and run another."""
    errors: list[Any] = []
    for grant_type, path in oauth_settings.grant_types.items():
        try:
            cls = import_string(path)
        except ImportError:
            errors.append(
                Error(f"Grant {grant_type!r}: cannot import {path}.", id="oauth_token.E008")
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseGrant)):
            errors.append(
                Error(
                    f"Grant {grant_type!r}: {path} is not a BaseGrant subclass.",
                    id="oauth_token.E011",
                )
            )
        elif getattr(cls, "grant_type", None) != grant_type:
            errors.append(
                Error(
                    f"Grant {grant_type!r}: {path} declares grant_type "
                    f"{getattr(cls, 'grant_type', None)!r}.",
                    hint="Key GRANT_TYPES by each class's grant_type.",
                    id="oauth_token.E012",
                )
            )
    return errors


def _sealing_errors() -> list[Any]:
    """A wrong key-encryption key passes every other check and then turns every token request
    into a 500: try to open what is sealed (AES-GCM, microseconds each)."""
    try:
        if _migrations_pending():
            return []
        report = sealing.inspect()
    except DatabaseError:
        return []
    except ConfigurationError as exc:
        return [Error(str(exc), id="oauth_token.E130")]
    hint = (
        "If the key-encryption key was changed, put the previous one in "
        "OAUTH_TOKEN['OLD_KEY_ENCRYPTION_KEYS'] and run `manage.py oauth_keys reseal`."
    )
    keys = [v for v in report.undecryptable if v.kind == "signing key"]
    clients = [v for v in report.undecryptable if v.kind != "signing key"]
    errors: list[Any] = []
    if keys:
        errors.append(
            Error(
                "OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] cannot decrypt "
                + ", ".join(str(v) for v in keys)
                + ": tokens cannot be signed or verified with it.",
                hint=hint,
                id="oauth_token.E130",
            )
        )
    if clients:
        errors.append(
            Error(
                f"OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] cannot decrypt the secrets of {len(clients)} "
                "client_secret_jwt client(s): "
                + ", ".join(v.name for v in clients[:5])
                + ("..." if len(clients) > 5 else ""),
                hint=hint,
                id="oauth_token.E131",
            )
        )
    if report.stale:
        errors.append(
            Warning(
                f"{len(report.stale)} signing key(s) or client secret(s) are sealed under a key "
                "in OAUTH_TOKEN['OLD_KEY_ENCRYPTION_KEYS'].",
                hint="Run `manage.py oauth_keys reseal`, then remove the old key from settings.",
                id="oauth_token.W130",
            )
        )
    return errors


def _hook_errors() -> list[Any]:
    """Dotted paths of the password throttle's IP function and of the external-subject user
    lookup (jwt-bearer, token exchange) must import."""
    errors: list[Any] = []
    for name in ("CLIENT_IP_FUNCTION", "EXTERNAL_USER_LOOKUP"):
        path = oauth_settings.user_settings.get(name, DEFAULTS[name])
        try:
            ok = callable(import_string(path)) if isinstance(path, str) else callable(path)
        except ImportError:
            ok = False
        if not ok:
            errors.append(
                Error(
                    f"OAUTH_TOKEN['{name}'] must be the dotted path of a function.",
                    id="oauth_token.E030",
                )
            )
    for name in ("ACCESS_TOKEN_CLAIMS", "ID_TOKEN_CLAIMS"):
        path = oauth_settings.user_settings.get(name)
        if path is None:
            continue
        try:
            ok = callable(import_string(path)) if isinstance(path, str) else callable(path)
        except ImportError:
            ok = False
        if not ok:
            errors.append(
                Error(
                    f"OAUTH_TOKEN['{name}'] must be the dotted path of a claims hook "
                    f"f(claims, context); {path!r} does not import as one.",
                    id="oauth_token.E031",
                )
            )
    if oauth_settings.user_settings.get("METRICS") and not metrics.available():
        errors.append(
            Error(
                "OAUTH_TOKEN['METRICS'] is on but prometheus-client is not installed.",
                hint="pip install 'django-oauth-token[metrics]'",
                id="oauth_token.E032",
            )
        )
    return errors


def _authorize_errors() -> list[Any]:
    """/authorize logs people in through Django's sessions and authentication: without their
    middleware every browser request would fail (OIDC Core §3.1.2.3)."""
    needed = (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    )
    missing = [m for m in needed if m not in getattr(settings, "MIDDLEWARE", ())]
    if not missing:
        return []
    return [
        Error(
            f"/authorize needs {', '.join(missing)} in MIDDLEWARE.",
            hint="Sign-in and consent use Django's session and login.",
            id="oauth_token.E070",
        )
    ]


def _implied_workers() -> int:
    """Worker processes the environment asks for: ``WEB_CONCURRENCY`` (gunicorn, uvicorn and
    most platforms honour it) or ``-w N`` / ``--workers N`` in ``GUNICORN_CMD_ARGS``."""
    counts = [os.environ.get("WEB_CONCURRENCY", "")]
    counts += re.findall(r"(?:-w|--workers)[=\s]*(\d+)", os.environ.get("GUNICORN_CMD_ARGS", ""))
    return max((int(c) for c in counts if c.strip().isdigit()), default=1)


def _cache_warnings() -> list[Any]:
    """Several workers with a process-local cache: configuration changes still apply at once
    (the change generation is then read from the database), but what only the cache holds —
    replay markers of client assertions and DPoP proofs, nonces, throttles and lockouts — is
    kept per worker, so a replay sent to another worker would pass."""
    interval = oauth_settings.CHANGE_CHECK_INTERVAL
    if not isinstance(interval, int | float) or isinstance(interval, bool) or interval < 0:
        return [
            Error(
                "OAUTH_TOKEN['CHANGE_CHECK_INTERVAL'] must be a number of seconds (0 or more).",
                id="oauth_token.E080",
            )
        ]
    workers = _implied_workers()
    if oauth_settings.CACHE_ALIAS not in settings.CACHES or workers < 2:
        return []
    if not cache.process_local():
        return []
    return [
        Warning(
            f"The cache OAUTH_TOKEN uses is local to each process, but the environment asks "
            f"for {workers} workers: replay detection, DPoP nonces, throttles and lockouts "
            "would be kept per worker.",
            hint="Use one Redis shared by every worker (django.core.cache.backends.redis."
            "RedisCache), or run a single worker.",
            id="oauth_token.W080",
        )
    ]


def check_configuration(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    return (
        _issuer_errors()
        + _kek_errors()
        + _settings_errors()
        + _cache_warnings()
        + _refresh_token_errors()
        + _hook_errors()
        + _authorize_errors()
        + _registration_errors()
        + _client_metadata_errors()
    )


def _registration_errors() -> list[Any]:
    """RFC 7591 registration: a mode this server knows (a typo must not open it)."""
    value = oauth_settings.user_settings.get("REGISTRATION", DEFAULTS["REGISTRATION"])
    if value not in ("closed", "token", "open"):
        return [
            Error(
                "OAUTH_TOKEN['REGISTRATION'] must be 'closed', 'token' or 'open'.",
                id="oauth_token.E150",
            )
        ]
    return []


def _client_metadata_errors() -> list[Any]:
    """Client ID Metadata Documents: an on/off switch, a positive size limit, cache bounds
    with MIN <= MAX, and a CA file that exists when one is named."""
    user = oauth_settings.user_settings
    problems = []
    if not isinstance(user.get("CLIENT_ID_METADATA_DOCUMENTS", False), bool):
        problems.append("CLIENT_ID_METADATA_DOCUMENTS must be True or False")
    numbers: dict[str, int] = {}
    for name, smallest in (
        ("CLIENT_ID_METADATA_DOCUMENT_MAX_BYTES", 1),
        ("CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS", 1),
        ("CLIENT_ID_METADATA_DOCUMENT_MAX_CACHE_SECONDS", 1),
    ):
        value = user.get(name, DEFAULTS[name])
        if not isinstance(value, int) or isinstance(value, bool) or value < smallest:
            problems.append(f"{name} must be an integer of at least {smallest}")
        else:
            numbers[name] = value
    low = numbers.get("CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS")
    high = numbers.get("CLIENT_ID_METADATA_DOCUMENT_MAX_CACHE_SECONDS")
    if low is not None and high is not None and low > high:
        problems.append(
            "CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS must not exceed "
            "CLIENT_ID_METADATA_DOCUMENT_MAX_CACHE_SECONDS"
        )
    ca_file = user.get("OUTBOUND_CA_FILE")
    if ca_file is not None and not (isinstance(ca_file, str) and os.path.isfile(ca_file)):
        problems.append("OUTBOUND_CA_FILE must be None or the path of a PEM file")
    return [Error(f"OAUTH_TOKEN: {p}.", id="oauth_token.E160") for p in problems] + (
        _client_metadata_throttle_errors()
    )


def _client_metadata_throttle_errors() -> list[Any]:
    """The fetch throttle of Client ID Metadata Documents: positive whole numbers (a zero or
    a typo must neither stop every new document client nor lift the bound)."""
    user = oauth_settings.user_settings
    return [
        Error(f"OAUTH_TOKEN: {name} must be a positive integer.", id="oauth_token.E161")
        for name in (
            "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_IP",
            "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_WINDOW",
            "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW",
        )
        if not _positive_int(user.get(name, DEFAULTS[name]))
    ]


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_signing_keys(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if _issuer_errors() or _kek_errors():
        return []
    return _key_errors() + _sealing_errors()


# Registered by AppConfig.ready, in this order.
CHECKS = (check_configuration, check_signing_keys)
