"""Roles (RBAC as Auth0 does it): a named set of one API's scopes, given to users directly or
through their Django groups. When the API has RBAC on, what a user can be granted on it is
limited to the permissions of the roles the user holds."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.Model):
    name = models.CharField(max_length=150, unique=True)
    description = models.CharField(max_length=255, blank=True)
    api = models.ForeignKey("oauth_token.Api", on_delete=models.CASCADE, related_name="roles")
    permissions = models.JSONField(
        default=list, blank=True, help_text="Scopes of the API this role grants."
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="oauth_roles")
    groups = models.ManyToManyField("auth.Group", blank=True, related_name="oauth_roles")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
