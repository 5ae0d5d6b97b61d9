from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from oauth_token.core.secrets import new_alphanumeric
from oauth_token.models.policies import validate_exchange_audiences, validate_trusted_issuers
from oauth_token.models.url_fields import CalledURLField


class ClientType(models.TextChoices):
    CONFIDENTIAL = "confidential", "Confidential"
    PUBLIC = "public", "Public"


class AuthMethod(models.TextChoices):
    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    CLIENT_SECRET_JWT = "client_secret_jwt"
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


SECRET_AUTH_METHODS = frozenset(
    {AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST, AuthMethod.CLIENT_SECRET_JWT}
)


# Long enough for a Client Identifier URL (draft-ietf-oauth-client-id-metadata-document §3),
# short enough for a unique index on every database Django supports.
CLIENT_ID_MAX_LENGTH = 255


def _new_client_id() -> str:
    return new_alphanumeric(32)


class Client(models.Model):
    """An OAuth client. Its secret exists only as a SHA-256 digest (plus, for
    ``client_secret_jwt`` where the server must hold the HMAC key, sealed with the KEK)."""

    client_id = models.CharField(
        "client ID", max_length=CLIENT_ID_MAX_LENGTH, unique=True, default=_new_client_id
    )
    name = models.CharField(max_length=200)
    client_type = models.CharField(
        max_length=12, choices=ClientType.choices, default=ClientType.CONFIDENTIAL
    )
    token_endpoint_auth_method = models.CharField(
        max_length=32, choices=AuthMethod.choices, default=AuthMethod.CLIENT_SECRET_BASIC
    )
    secret_digest = models.CharField(max_length=64, blank=True, editable=False)
    secret_sealed = models.TextField(blank=True, editable=False)
    grant_types = models.JSONField(default=list, blank=True)
    redirect_uris = models.JSONField("redirect URIs", default=list, blank=True)
    jwks = models.JSONField(
        "JWKS", null=True, blank=True, help_text="Public JWK Set for private_key_jwt."
    )
    jwks_uri = CalledURLField(
        "JWKS URI", blank=True, help_text="Where to fetch the JWK Set instead."
    )
    first_party = models.BooleanField(
        "first-party", default=False, help_text="Skips the consent page."
    )
    can_introspect = models.BooleanField(default=False, help_text="May call /oauth/introspect.")
    require_dpop = models.BooleanField("requires DPoP", default=False)
    require_par = models.BooleanField("requires PAR", default=False)
    is_active = models.BooleanField("active", default=True)
    # Per-client lifetimes in seconds (empty = fall back to the API, then OAUTH_TOKEN).
    access_token_lifetime = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Seconds; empty = the API's lifetime.",
    )
    refresh_token_lifetime = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Absolute refresh-token lifetime in seconds (0 = unlimited); "
        "empty = REFRESH_TOKEN_ABSOLUTE_LIFETIME.",
    )
    refresh_idle_lifetime = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Refresh-token inactivity lifetime in seconds (0 = unlimited); "
        "empty = REFRESH_TOKEN_IDLE_LIFETIME.",
    )
    # OIDC RP-Initiated Logout 1.0 §3.1 and Back-Channel Logout 1.0 §2.2.
    post_logout_redirect_uris = models.JSONField(
        default=list,
        blank=True,
        help_text="Where /oidc/logout may send the person afterwards (exact match).",
    )
    backchannel_logout_uri = CalledURLField(
        max_length=2000,
        blank=True,
        help_text="Receives a logout token (OIDC Back-Channel Logout) when a session ends.",
    )
    backchannel_logout_session_required = models.BooleanField(
        default=False, help_text="The client needs the sid claim in logout tokens (always sent)."
    )
    revoke_refresh_tokens_on_logout = models.BooleanField(
        default=False,
        help_text="Ending a browser session revokes the refresh tokens issued in it.",
    )
    exchange_audiences = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_exchange_audiences],
        help_text=(
            "Token exchange (RFC 8693) policy: the API identifiers this client may exchange "
            'tokens for, e.g. ["https://api.example.com"] or [{"audience": "https://api.'
            'example.com", "extra_scopes": ["read:x"]}] to allow scopes the subject token lacks.'
        ),
    )
    trusted_issuers = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_trusted_issuers],
        help_text=(
            "Issuers whose JWTs this client may present as jwt-bearer assertions (RFC 7523) or "
            'token-exchange subject tokens: [{"issuer": "https://idp.example.com/", '
            '"jwks_uri": "https://idp.example.com/jwks.json"}] (or "jwks": {...}; optional '
            '"audiences", "algorithms").'
        ),
    )
    # Set only for a client whose client_id is the URL of its Client ID Metadata Document: when
    # the cached document goes stale and is fetched again (registry/client_metadata.py).
    metadata_document_expires_at = models.DateTimeField(
        "metadata document expires",
        null=True,
        blank=True,
        editable=False,
        help_text="Set for clients described by a Client ID Metadata Document at their client ID.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "client_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def is_public(self) -> bool:
        return self.client_type == ClientType.PUBLIC


class ClientGrant(models.Model):
    """Allows a client the listed scopes of an API through client_credentials (Auth0's
    "client grant")."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="client_grants")
    api = models.ForeignKey(
        "oauth_token.Api", on_delete=models.CASCADE, related_name="client_grants"
    )
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "api"], name="oauth_token_unique_client_grant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client.name} → {self.api.identifier}"
