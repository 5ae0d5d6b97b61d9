from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from oauth_token.admin.confirm import confirm
from oauth_token.authorize import consent
from oauth_token.models import Consent


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """What each person allowed each client (OIDC Core §3.1.2.4). Revoking removes the
    consent: the client's next authorization request shows the consent page again."""

    list_display = ("user", "client", "audience", "scope_list", "updated_at")
    list_filter = ("client",)
    search_fields = ("user__username", "user__email", "client__name", "client__client_id")
    readonly_fields = ("user", "client", "audience", "scopes", "created_at", "updated_at")
    list_select_related = ("user", "client")
    actions = ["revoke_consents"]

    @admin.display(description="scopes")
    def scope_list(self, obj: Consent) -> str:
        return " ".join(obj.scopes or ())

    @admin.action(description="Revoke selected consents", permissions=["delete"])
    @confirm(
        title="Revoke consents?",
        consequence=(
            "Each selected person will be asked again before the client can sign them in or "
            "act for them."
        ),
        button="Yes, revoke the consents",
    )
    def revoke_consents(self, request: HttpRequest, queryset: QuerySet[Consent]) -> None:
        """Also revokes what each consent granted (refresh families, access tokens)."""
        count = consent.revoke_rows(queryset, request)
        self.message_user(request, f"Revoked {count} consent(s).", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
