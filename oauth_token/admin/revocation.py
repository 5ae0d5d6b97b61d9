"""The access-token denylist: read-only (revocation writes it, ``oauth_cleanup`` empties it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oauth_token.models import RevokedAccessToken


@admin.register(RevokedAccessToken)
class RevokedAccessTokenAdmin(admin.ModelAdmin):
    list_display = ["jti", "client_id", "reason", "expires_at", "created_at"]
    list_filter = ["reason"]
    search_fields = ["jti", "client_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
