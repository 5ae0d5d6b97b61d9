"""Refresh-token families in the admin: per user and client, revocable; token values and
digests are never displayed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from oauth_token.admin.confirm import confirm
from oauth_token.models import RefreshToken, RefreshTokenFamily
from oauth_token.tokens import refresh_tokens


class RefreshTokenInline(admin.TabularInline):
    """The chain of a family: when each token was issued, used and goes idle; no digests."""

    model = RefreshToken
    fields = ("id", "parent", "created_at", "used_at", "last_used_at", "idle_expires_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        return queryset


@admin.register(RefreshTokenFamily)
class RefreshTokenFamilyAdmin(admin.ModelAdmin):
    """Refresh-token families per user and client. Read-only except for the revoke action,
    which also denylists the family's access tokens (deleting is left to oauth_cleanup, so an
    operator cannot drop a family without revoking what it issued)."""

    # Short columns that fit a 1280 px screen beside the admin's sidebars (the client's name,
    # not "name (client_id)"; dates without seconds); scopes and the rest are on the detail page.
    list_display = ("id", "user", "client_name", "api", "expires", "state")
    list_filter = (RevokedFilter, ("client", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "client")
    search_fields = (
        "user__username",
        "user__email",
        "subject",
        "client__client_id",
        "client__name",
        "audience",
    )
    date_hierarchy = "created_at"
    fields = (
        "client",
        "user",
        "subject",
        "audience",
        "scopes",
        "grant_type",
        "auth_time",
        "dpop_jkt",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )
    readonly_fields = fields
    inlines = [RefreshTokenInline]
    actions = ["revoke_families"]

    @admin.display(description="state")
    def state(self, obj: RefreshTokenFamily) -> str:
        if obj.is_revoked():
            return f"revoked ({obj.revoked_reason})" if obj.revoked_reason else "revoked"
        return "expired" if obj.is_expired() else "active"

    @admin.display(description="client", ordering="client__name")
    def client_name(self, obj: RefreshTokenFamily) -> str:
        return obj.client.name

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: RefreshTokenFamily) -> str:
        if obj.expires_at is None:
            return "never"
        return timezone.localtime(obj.expires_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="API", ordering="audience")
    def api(self, obj: RefreshTokenFamily) -> str:
        return obj.audience or "—"

    @admin.action(
        description="Revoke selected families (and their access tokens)", permissions=["revoke"]
    )
    @confirm(
        title="Revoke refresh-token families?",
        consequence=(
            "The selected refresh tokens stop working now and the access tokens they issued "
            "are denylisted: the applications must sign these people in again."
        ),
        button="Yes, revoke the families",
    )
    def revoke_families(self, request: HttpRequest, queryset: QuerySet) -> None:
        families = list(queryset)
        listed = sum(refresh_tokens.revoke_family(f, "admin") for f in families)
        self.message_user(
            request,
            f"Revoked {len(families)} famil{'y' if len(families) == 1 else 'ies'}; "
            f"{listed} access token(s) denylisted.",
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only: no Save button; revoking is the action below

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("oauth_token.change_refreshtokenfamily"))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
