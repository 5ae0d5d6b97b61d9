"""Device codes (RFC 8628): read-only; the flow creates and decides them, ``oauth_cleanup``
deletes expired ones. Deleting one ends that device's authorization attempt."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oauth_token.models import DeviceCode


@admin.register(DeviceCode)
class DeviceCodeAdmin(admin.ModelAdmin):
    list_display = ["display_user_code", "client", "status", "user", "expires_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["user_code", "client__name", "client__client_id"]
    list_select_related = ["client", "user"]
    date_hierarchy = "created_at"
    # The device code exists only as a digest, and that is not shown either.
    readonly_fields = (
        "display_user_code",
        "client",
        "scopes",
        "audience",
        "status",
        "interval",
        "last_polled_at",
        "expires_at",
        "user",
        "auth_time",
        "decided_at",
        "consumed_at",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description="user code", ordering="user_code")
    def display_user_code(self, obj: DeviceCode) -> str:
        return obj.display_user_code

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
