"""Refresh tokens, organised in families (RFC 6749 §6, RFC 9700 §4.14).

A *family* is everything that descends from one original grant (an authorization code, a
password or device grant, …): its client, user, audience, scopes and absolute expiry, and
whether it has been revoked. Each refresh token of the family is a row holding only the SHA-256
digest of an opaque 256-bit value; with rotation, each use consumes the row (``used_at``) and
creates its successor. Every access token issued from the family is listed so that revoking the
family (on reuse, RFC 9700 §4.14.2, or by an operator) can denylist them too.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class RefreshTokenFamily(models.Model):
    """One original grant and its chain of refresh tokens."""

    client = models.ForeignKey(
        "oauth_token.Client", on_delete=models.CASCADE, related_name="refresh_families"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="oauth_refresh_families",
    )
    subject = models.CharField(max_length=255, help_text="`sub` of the tokens issued.")
    audience = models.CharField(
        max_length=255, blank=True, help_text="Identifier of the API, empty for OIDC-only grants."
    )
    resources = models.JSONField(
        default=list,
        blank=True,
        help_text="RFC 8707: every API granted (a refresh may name one); empty = the audience.",
    )
    scopes = models.JSONField(default=list, blank=True)
    extra_claims = models.JSONField(default=dict, blank=True)
    auth_time = models.DateTimeField(null=True, blank=True)
    grant_type = models.CharField(max_length=128, blank=True, help_text="The original grant.")
    sid = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="The browser session the grant was made in (OIDC Back-Channel Logout §2.1).",
    )
    dpop_jkt = models.CharField(
        "DPoP key thumbprint",
        max_length=64,
        null=True,
        blank=True,
        help_text="RFC 9449 §5: JWK thumbprint every refresh must prove possession of.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Absolute expiry; empty = none."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "refresh-token family"
        verbose_name_plural = "refresh-token families"

    def __str__(self) -> str:
        return f"family {self.pk} ({self.subject} via client {self.client_id})"

    @property
    def scope(self) -> str:
        return " ".join(self.scopes or ())

    def is_expired(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.expires_at is not None and self.expires_at <= now

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class RefreshToken(models.Model):
    """One refresh token: only its SHA-256 digest is stored (the value is 256-bit random, or
    derived from its parent with a server key, see ``refresh_tokens.successor_value``)."""

    family = models.ForeignKey(RefreshTokenFamily, on_delete=models.CASCADE, related_name="tokens")
    # Unique through Meta.constraints, not unique=True: on PostgreSQL a unique CharField also
    # gets a varchar_pattern_ops index for LIKE, which nothing here queries and which doubled
    # the index pages every rotation's INSERT writes (two 124 MB indexes at 1M tokens).
    token_digest = models.CharField(max_length=64, editable=False)
    parent = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="successor",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set once, by the one request that rotated this token (conditional UPDATE).
    used_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    idle_expires_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Inactivity expiry; empty = none."
    )
    # The access token issued together with this refresh token (by the grant that started the
    # family, or by the refresh that rotated to this token), kept until it expires so that
    # revoking the family can denylist it (RFC 7009 §2.1) without a row of its own: one
    # INSERT less on every code redemption, password grant and refresh. Access tokens issued
    # without a new refresh token (rotation off, the reuse leeway) have their own rows,
    # RefreshFamilyAccessToken.
    access_token_jti = models.CharField(max_length=64, blank=True, default="", editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["token_digest"], name="oauth_token_refreshtoken_digest_unique"
            )
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of family {self.family_id}"

    def is_idle_expired(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.idle_expires_at is not None and self.idle_expires_at <= now


class RefreshFamilyAccessToken(models.Model):
    """An access token issued from a family without a new refresh token (rotation off, the
    reuse leeway), kept until it expires so that revoking the family can denylist it (RFC 7009
    §2.1). One issued with a refresh token is recorded on that token's row instead."""

    family = models.ForeignKey(
        RefreshTokenFamily, on_delete=models.CASCADE, related_name="access_tokens"
    )
    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.jti
