"""Settings for oauth_token, read from the single ``OAUTH_TOKEN`` dict.

Modelled on DRF's ``api_settings``: every key has a documented default, dotted paths are
imported lazily, and the object reloads when tests change settings. Nothing else in the app
reads ``settings.OAUTH_TOKEN`` directly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # Absolute URL that identifies this server; `iss` of every token it signs.
    "ISSUER": None,
    # Secret from which the AES-256-GCM key that encrypts private signing keys (and the
    # secrets of client_secret_jwt clients) is derived. Required when DEBUG is off.
    "KEY_ENCRYPTION_KEY": None,
    # Former key-encryption keys, still accepted for decryption while re-encrypting
    # (`manage.py oauth_keys reseal` re-encrypts everything under KEY_ENCRYPTION_KEY).
    "OLD_KEY_ENCRYPTION_KEYS": [],
    # `migrate` creates the first signing key (DEFAULT_SIGNING_ALGORITHM, and
    # ID_TOKEN_SIGNING_ALGORITHM if different) when the project has no signing key at all.
    "CREATE_SIGNING_KEY_ON_MIGRATE": True,
    # Lifetimes, in seconds.
    "ACCESS_TOKEN_LIFETIME": 86400,
    "ID_TOKEN_LIFETIME": 36000,
    "AUTHORIZATION_CODE_LIFETIME": 60,
    # Refresh-token families: absolute and idle (inactivity) lifetimes, 0 = unlimited;
    # rotation on each use; seconds after a rotation during which the rotated token may be
    # presented again and gets the same successor (Auth0's reuse interval) instead of
    # revoking the family (RFC 9700 §4.14.2).
    "REFRESH_TOKEN_ABSOLUTE_LIFETIME": 30 * 86400,
    "REFRESH_TOKEN_IDLE_LIFETIME": 15 * 86400,
    "REFRESH_TOKEN_ROTATION": True,
    "REFRESH_TOKEN_REUSE_LEEWAY": 0,
    # RFC 9449 §5: public clients' refresh tokens are bound to their DPoP key; bind
    # confidential clients' too when True.
    "DPOP_BIND_CONFIDENTIAL_REFRESH_TOKENS": False,
    # Device authorization (RFC 8628): code lifetime, minimum polling interval, and how many
    # wrong user codes a person, and an IP address (higher: people share addresses behind a
    # NAT), may enter at /activate per window.
    "DEVICE_CODE_LIFETIME": 900,
    "DEVICE_CODE_INTERVAL": 5,
    "DEVICE_ACTIVATION_MAX_FAILURES": 10,
    "DEVICE_ACTIVATION_MAX_FAILURES_PER_IP": 100,
    "DEVICE_ACTIVATION_FAILURE_WINDOW": 900,
    # Pushed authorization requests (RFC 9126): request_uri lifetime, and whether every client
    # must push its authorization requests (Client.require_par does it per client).
    "PAR_LIFETIME": 60,
    "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": False,
    # API used when a request names no audience (Auth0's "default audience").
    "DEFAULT_AUDIENCE": None,
    # Algorithms a signing key may use, and the one `oauth_keys rotate` picks by default.
    "SIGNING_ALGORITHMS": ["RS256", "PS256", "ES256", "EdDSA"],
    "DEFAULT_SIGNING_ALGORITHM": "RS256",
    "ID_TOKEN_SIGNING_ALGORITHM": "RS256",
    # Client assertions (client_secret_jwt, private_key_jwt; RFC 7523 §3).
    "CLIENT_ASSERTION_MAX_LIFETIME": 300,
    "CLIENT_ASSERTION_ALGORITHMS": [
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
        "HS256",
        "HS384",
        "HS512",
    ],
    "CLOCK_SKEW": 30,
    # How long a fetched client `jwks_uri` document is trusted, and the JWKS endpoint's max-age.
    "JWKS_CACHE_SECONDS": 300,
    # Outbound requests to URLs that clients or trusted issuers name (core/outbound.py): a
    # total deadline in seconds (connect, TLS, request and whole response), the largest
    # response body, how long a failed URL is not retried, and whether loopback, private and
    # link-local addresses may be fetched (only for development and tests: an SSRF otherwise).
    "OUTBOUND_TIMEOUT": 3.0,
    "OUTBOUND_MAX_BYTES": 256 * 1024,
    "OUTBOUND_FAILURE_CACHE_SECONDS": 30,
    "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": False,
    # A PEM file of the certificate authorities outbound https trusts instead of the system's
    # (an internal CA; the tests' own); None = the system's trust store.
    "OUTBOUND_CA_FILE": None,
    # Former name of OUTBOUND_TIMEOUT, still honoured when OUTBOUND_TIMEOUT is not set.
    "JWKS_FETCH_TIMEOUT": 3.0,
    # Cache alias for replay caches, nonces, throttles and cached lookups.
    "CACHE_ALIAS": "default",
    "CACHE_KEY_PREFIX": "oauth_token",
    "LOOKUP_CACHE_SECONDS": 300,
    # With a shared cache, how often (seconds) a process checks whether another process
    # changed a client, API, grant or key: the bound on how long such a change may be
    # ignored elsewhere. 0 checks on every request. A process-local cache checks the
    # database on every request instead.
    "CHANGE_CHECK_INTERVAL": 1.0,
    # Request limits at the token endpoint.
    "MAX_BODY_BYTES": 64 * 1024,
    "MAX_PARAMETER_LENGTH": 8192,
    # grant_type -> dotted path of a BaseGrant subclass. Replace or extend in settings.
    "GRANT_TYPES": {
        "authorization_code": "oauth_token.grants.authorization_code.AuthorizationCodeGrant",
        "client_credentials": "oauth_token.grants.client_credentials.ClientCredentialsGrant",
        "password": "oauth_token.grants.password.PasswordGrant",
        "urn:ietf:params:oauth:grant-type:token-exchange": (
            "oauth_token.grants.token_exchange.TokenExchangeGrant"
        ),
        "urn:ietf:params:oauth:grant-type:jwt-bearer": (
            "oauth_token.grants.jwt_bearer.JwtBearerGrant"
        ),
        "refresh_token": "oauth_token.grants.refresh_token.RefreshTokenGrant",
        "urn:ietf:params:oauth:grant-type:device_code": (
            "oauth_token.grants.device_code.DeviceCodeGrant"
        ),
    },
    # Extra grant types merged into GRANT_TYPES, so a project can add one without restating all.
    "EXTRA_GRANT_TYPES": {},
    # Builds the OIDC claims of a user for a set of scopes: f(user, scopes) -> dict.
    "CLAIMS_FUNCTION": "oauth_token.tokens.claims.default_claims",
    # Resource servers (oauth_token.authentication): the audience a view accepts when it sets
    # no `token_audience` (a string or a list), the realm of WWW-Authenticate challenges, and
    # whether to consult the access-token denylist on every request (one cache read each).
    "RESOURCE_SERVER_AUDIENCE": None,
    "RESOURCE_SERVER_REALM": "oauth",
    "RESOURCE_SERVER_CHECK_REVOCATION": False,
    # DPoP (RFC 9449): asymmetric algorithms accepted for proofs (none and HMAC never are).
    "DPOP_SIGNING_ALGORITHMS": ["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA", "Ed25519"],
    # A proof's iat may differ from the server's clock by at most this many seconds; its jti
    # is remembered (shared cache) for twice as long.
    "DPOP_IAT_WINDOW": 60,
    # Server nonces (RFC 9449 §8): "off", "public" (required from public clients) or "always".
    # A nonce is accepted for one to two DPOP_NONCE_LIFETIME windows.
    "DPOP_NONCE_POLICY": "off",
    "DPOP_NONCE_LIFETIME": 300,
    # Password grant brute-force protection (throttling.py): failures allowed per username and
    # per source IP within the window (seconds) before 429 too_many_attempts, until it passes.
    "PASSWORD_MAX_FAILURES_PER_USER": 10,
    "PASSWORD_MAX_FAILURES_PER_IP": 100,
    "PASSWORD_FAILURE_WINDOW": 900,
    # f(django_request) -> str: the source IP used by throttles. Replace it behind a proxy.
    "CLIENT_IP_FUNCTION": "oauth_token.core.lockout.remote_addr",
    # Maps the `sub` of a JWT from a client's trusted issuer (jwt-bearer assertions, token
    # exchange subject tokens) to a Django user: f(issuer, sub, claims) -> user or None. The
    # default maps nothing unless the trusted-issuer entry has "subject_mapping".
    "EXTERNAL_USER_LOOKUP": "oauth_token.registry.trusted_issuers.user_by_mapping",
    # Longest lifetime (exp - now, seconds) accepted for a jwt-bearer assertion (RFC 7523 §3).
    "JWT_BEARER_MAX_LIFETIME": 3600,
    # /authorize (RFC 6749 §4.1, RFC 7636). Public clients must always send a PKCE challenge;
    # PKCE_REQUIRED extends that to confidential clients. The "plain" method is refused unless
    # PKCE_ALLOW_PLAIN (RFC 9700 §2.1.1 recommends S256).
    "PKCE_REQUIRED": False,
    "PKCE_ALLOW_PLAIN": False,
    # Where /authorize sends people to log in (with ?next=...); None means settings.LOGIN_URL.
    "LOGIN_URL": None,
    # Seconds a pending authorization (shown on the consent page) stays valid in the session.
    "CONSENT_TIMEOUT": 600,
    # Logout (OIDC RP-Initiated and Back-Channel Logout 1.0): lifetime of a logout token, and
    # how often each client's backchannel_logout_uri is tried, with the delay before the first
    # retry (doubled for each further one). Deliveries run on a background thread after the
    # logout commits; they never hold the person's request.
    "LOGOUT_TOKEN_LIFETIME": 120,
    "BACKCHANNEL_LOGOUT_ATTEMPTS": 3,
    "BACKCHANNEL_LOGOUT_RETRY_DELAY": 1.0,
    # OIDC claims this deployment can return (discovery's claims_supported); extend it when
    # CLAIMS_FUNCTION returns more.
    "CLAIMS_SUPPORTED": [
        "sub",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "updated_at",
        "email",
        "email_verified",
    ],
    # Dynamic client registration (RFC 7591, RFC 7592) at /oauth/register: "closed" (403,
    # not advertised), "token" (an initial access token from `oauth_client initial-access-token`
    # is required, once) or "open". Registration requests allowed per source IP per window
    # (seconds), and the default lifetime of an initial access token.
    "REGISTRATION": "closed",
    "REGISTRATION_MAX_PER_IP": 20,
    "REGISTRATION_WINDOW": 3600,
    "INITIAL_ACCESS_TOKEN_LIFETIME": 86400,
    # Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): when on, a
    # client_id that is an https URL names the client's metadata, fetched from that URL through
    # core/outbound.py (at most MAX_BYTES), validated, and cached as its HTTP headers say, but
    # never for less than MIN nor more than MAX_CACHE_SECONDS. Such clients are public.
    "CLIENT_ID_METADATA_DOCUMENTS": False,
    "CLIENT_ID_METADATA_DOCUMENT_MAX_BYTES": 5 * 1024,
    "CLIENT_ID_METADATA_DOCUMENT_MIN_CACHE_SECONDS": 60,
    "CLIENT_ID_METADATA_DOCUMENT_MAX_CACHE_SECONDS": 86400,
    # Fetches of documents this server has no row for (outbound HTTP, maybe a new client row)
    # allowed per source IP, and for the whole server, per FETCH_WINDOW seconds; then 429.
    "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_IP": 30,
    "CLIENT_ID_METADATA_DOCUMENT_FETCHES_PER_WINDOW": 1000,
    "CLIENT_ID_METADATA_DOCUMENT_FETCH_WINDOW": 3600,
    # Retry-After, in seconds, sent with 503 temporarily_unavailable.
    "RETRY_AFTER": 2,
    # Claims hooks (like Auth0 Actions' setCustomClaim): dotted paths of f(claims, context)
    # -> mapping of claims to add to access / ID tokens; registered claims cannot be changed.
    "ACCESS_TOKEN_CLAIMS": None,
    "ID_TOKEN_CLAIMS": None,
    # Store every event of oauth_token.signals as an AuditEvent (admin, `oauth_audit export`),
    # deleted by oauth_cleanup once older than AUDIT_LOG_RETENTION seconds.
    "AUDIT_LOG": False,
    "AUDIT_LOG_RETENTION": 90 * 86400,
    # Audit events are written in bulk by a background thread per process: at most this many
    # wait, for at most this many seconds (1 = write each at once, in the request).
    "AUDIT_LOG_BATCH_SIZE": 100,
    "AUDIT_LOG_FLUSH_INTERVAL": 1.0,
    # Prometheus counters and latency histograms per endpoint, grant type and error code
    # (needs the `metrics` extra, prometheus-client).
    "METRICS": False,
}

# Former names still honoured when the new name is not set: new -> old.
RENAMED = {"OUTBOUND_TIMEOUT": "JWKS_FETCH_TIMEOUT"}

IMPORT_STRINGS = {
    "CLAIMS_FUNCTION",
    "CLIENT_IP_FUNCTION",
    "EXTERNAL_USER_LOOKUP",
    "ACCESS_TOKEN_CLAIMS",
    "ID_TOKEN_CLAIMS",
}


class OAuthTokenSettings:
    """Attribute access to OAUTH_TOKEN with defaults; values are cached until settings change."""

    def __init__(self) -> None:
        self._cached: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "OAUTH_TOKEN", {}) or {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid oauth_token setting: {name!r}")
        if name in self._cached:
            return self._cached[name]
        user = self.user_settings
        if name not in user and RENAMED.get(name) in user:
            value = user[RENAMED[name]]
        else:
            value = user.get(name, DEFAULTS[name])
        if name in IMPORT_STRINGS and isinstance(value, str):
            value = import_string(value)
        self._cached[name] = value
        return value

    def reload(self) -> None:
        self._cached.clear()

    @property
    def grant_types(self) -> dict[str, str]:
        return {**self.GRANT_TYPES, **self.EXTRA_GRANT_TYPES}


oauth_settings = OAuthTokenSettings()


# Settings whose change (in tests, through override_settings) invalidates what is derived from them.
RELOADING_SETTINGS = frozenset({"OAUTH_TOKEN", "DEBUG", "SECRET_KEY", "CACHES", "ROOT_URLCONF"})


def reload_on_change(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver, connected in ``AppConfig.ready``."""
    if setting in RELOADING_SETTINGS:
        oauth_settings.reload()
