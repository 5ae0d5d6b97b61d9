from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from oauth_token.conf import oauth_settings
from oauth_token.core.jose import SIGNING_KEY_ALGORITHMS


def _default_lifetime() -> int:
    return int(oauth_settings.ACCESS_TOKEN_LIFETIME)


def _default_alg() -> str:
    return str(oauth_settings.DEFAULT_SIGNING_ALGORITHM)


class Api(models.Model):
    """A resource server: its ``identifier`` is the ``audience`` clients ask tokens for."""

    identifier = models.CharField(
        max_length=255, unique=True, help_text="The audience URI, e.g. https://api.example.com"
    )
    name = models.CharField(max_length=200)
    access_token_lifetime = models.PositiveIntegerField(
        default=_default_lifetime, help_text="Seconds; `expires_in` of tokens for this API."
    )
    signing_alg = models.CharField(
        "signing algorithm",
        max_length=10,
        choices=[(a, a) for a in SIGNING_KEY_ALGORITHMS],
        default=_default_alg,
    )
    allow_offline_access = models.BooleanField(
        "allows offline access",
        default=False,
        help_text="Whether refresh tokens may be issued for this API.",
    )
    rbac = models.BooleanField(
        default=False,
        verbose_name="RBAC",
        help_text="Limit what a user can be granted to the permissions of the user's roles.",
    )
    permissions_in_token = models.BooleanField(
        default=False,
        help_text="With RBAC: access tokens carry the user's permissions as `permissions`.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["identifier"]
        verbose_name = "API"
        verbose_name_plural = "APIs"

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier})"

    def clean(self) -> None:
        """As in Auth0, permissions go into tokens only for an API that enforces RBAC."""
        if self.permissions_in_token and not self.rbac:
            raise ValidationError("Permissions in the token need RBAC on the API (--rbac).")


class ApiScope(models.Model):
    api = models.ForeignKey(Api, on_delete=models.CASCADE, related_name="scopes")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["api", "name"], name="oauth_token_unique_api_scope")
        ]

    def __str__(self) -> str:
        return self.name
