"""RBAC roles: name, description, API, permissions (a subset of that API's scopes), holders;
and a page showing a user's effective permissions per API (direct roles and group roles)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from oauth_token.models import Role
from oauth_token.registry import roles


class RoleForm(forms.ModelForm):
    permissions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Scopes of the API this role grants, separated by spaces or lines.",
    )

    class Meta:
        model = Role
        fields = ["name", "description", "api", "permissions", "users", "groups"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.initial.get("permissions")
        if isinstance(current, list):
            self.initial["permissions"] = "\n".join(current)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        api = data.get("api")
        if api is None or self.errors:
            return data
        try:
            data["permissions"] = roles.validate_permissions(
                api, str(data.get("permissions") or "").split()
            )
        except ValidationError as exc:
            self.add_error("permissions", exc.messages)
        return data


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "api", "permission_list", "description"]
    list_filter = ["api"]
    search_fields = ["name", "description", "users__username", "groups__name"]
    filter_horizontal = ["users", "groups"]
    change_list_template = "admin/oauth_token/role/change_list.html"

    @admin.display(description="permissions")
    def permission_list(self, role: Role) -> str:
        return " ".join(role.permissions or ()) or "-"

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "effective/",
                self.admin_site.admin_view(self.effective_view),
                name="oauth_token_role_effective",
            )
        ]
        return own + super().get_urls()

    def effective_view(self, request: HttpRequest) -> HttpResponse:
        """A user's effective permissions per API: what RBAC lets them be granted."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        username = request.GET.get("user", "").strip()
        user, permissions = None, None
        if username:
            model = get_user_model()
            user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
            if user is not None:
                permissions = roles.effective_permissions(user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Effective permissions",
            "username": username,
            "found": user,
            "permissions": permissions,
        }
        return TemplateResponse(
            request, "admin/oauth_token/role/effective_permissions.html", context
        )
