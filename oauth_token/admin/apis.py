"""APIs (resource servers) with their scopes inline."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from oauth_token.models import Api, ApiScope
from oauth_token.registry import provisioning


class ApiScopeForm(forms.ModelForm):
    class Meta:
        model = ApiScope
        fields = ["name", "description"]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"])
        try:
            provisioning.validate_scope_name(name)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return name


class ApiForm(forms.ModelForm):
    class Meta:
        model = Api
        exclude: list[str] = []

    def clean_identifier(self) -> str:
        identifier = str(self.cleaned_data["identifier"])
        try:
            provisioning.validate_api_identifier(identifier)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return identifier


class ApiScopeInline(admin.TabularInline):
    model = ApiScope
    form = ApiScopeForm
    extra = 1


@admin.register(Api)
class ApiAdmin(admin.ModelAdmin):
    form = ApiForm
    list_display = [
        "identifier",
        "name",
        "access_token_lifetime",
        "signing_alg",
        "allow_offline_access",
        "rbac",
        "created_at",
    ]
    list_filter = ["allow_offline_access", "rbac", "signing_alg"]
    search_fields = ["identifier", "name", "scopes__name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ApiScopeInline]
