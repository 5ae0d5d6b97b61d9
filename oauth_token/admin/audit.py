"""The audit log (``AUDIT_LOG``), read-only: filter by event, outcome, client and time."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oauth_token.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "outcome", "actor", "client_id", "ip"]
    list_filter = ["event", "outcome", "created_at", "client_id"]
    search_fields = ["actor", "client_id", "ip", "user_agent"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "event",
        "outcome",
        "actor",
        "client_id",
        "ip",
        "user_agent",
        "details",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
