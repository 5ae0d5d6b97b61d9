"""APIs (resource servers) with their scopes inline (each scope's description is what the
consent page shows people)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from oauth_token.models import Api, ApiScope
from oauth_token.registry import keyring, provisioning


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

    def clean_signing_alg(self) -> str:
        """An API whose algorithm has no current key would answer every token request with
        a server error; refuse it here and name the command that creates the key."""
        alg = str(self.cleaned_data["signing_alg"])
        if keyring.ring(alg).current is None:
            raise forms.ValidationError(
                f"There is no {alg} signing key yet. Create one first: "
                f"manage.py oauth_keys rotate --alg {alg} "
                "(or 'Rotate keys' on the Signing keys page of this admin)."
            )
        return alg


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
