"""Pushed authorization requests (RFC 9126): read-only; ``/oauth/par`` creates them,
/authorize consumes them, ``oauth_cleanup`` deletes expired ones."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oauth_token.models import PushedAuthorizationRequest


@admin.register(PushedAuthorizationRequest)
class PushedAuthorizationRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "client", "expires_at", "consumed_at", "created_at"]
    search_fields = ["client__name", "client__client_id"]
    list_select_related = ["client"]
    date_hierarchy = "created_at"
    # The request_uri exists only as a digest, and that is not shown either.
    readonly_fields = ("client", "parameters", "expires_at", "consumed_at", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
