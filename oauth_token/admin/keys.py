"""Signing keys: read-only (key material is never shown), with rotate and revoke.

Rotation and revocation go through ``keyring`` exactly as ``manage.py oauth_keys`` does.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from oauth_token.admin.confirm import confirm
from oauth_token.conf import oauth_settings
from oauth_token.core import jose
from oauth_token.errors import ConfigurationError
from oauth_token.models import SigningKey
from oauth_token.registry import keyring


def _allowed_algorithms() -> list[tuple[str, str]]:
    return [(a, a) for a in jose.SIGNING_KEY_ALGORITHMS if a in oauth_settings.SIGNING_ALGORITHMS]


class RotateForm(forms.Form):
    alg = forms.ChoiceField(choices=_allowed_algorithms)


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["kid", "alg", "state", "created_at", "activated_at", "retired_at", "revoked_at"]
    list_filter = ["state", "alg"]
    search_fields = ["kid"]
    fields = (
        "kid",
        "alg",
        "state",
        "created_at",
        "activated_at",
        "retired_at",
        "revoked_at",
        "public_key",
    )
    readonly_fields = fields
    actions = ["rotate_selected", "revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("oauth_token.change_signingkey"))

    @admin.display(description="Public JWK")
    def public_key(self, obj: SigningKey) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.public_jwk, indent=2))

    @admin.action(
        description="Rotate the key ring of the selected keys' algorithm(s)", permissions=["rotate"]
    )
    def rotate_selected(self, request: HttpRequest, queryset: QuerySet[SigningKey]) -> None:
        for alg in sorted(set(queryset.values_list("alg", flat=True))):
            self._rotate(request, alg)

    @admin.action(
        description="Revoke the selected keys (they leave the JWKS now)", permissions=["rotate"]
    )
    @confirm(
        title="Revoke signing keys?",
        consequence=(
            "The selected keys leave the JWKS now: every token they signed stops verifying at "
            "once, everywhere. Only previous keys can be revoked. This cannot be undone."
        ),
        button="Yes, revoke the keys",
    )
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[SigningKey]) -> None:
        for key in queryset:
            try:
                keyring.revoke(key.kid)
            except ValueError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Revoked {key.kid} ({key.alg}).")

    def _rotate(self, request: HttpRequest, alg: str) -> None:
        try:
            ring = keyring.rotate(alg)
        except (ConfigurationError, ValueError) as exc:
            messages.error(request, str(exc))
            return
        assert ring.current is not None and ring.next is not None
        messages.success(
            request,
            f"Rotated {alg}: {ring.current.kid} signs now; {ring.next.kid} is published as next.",
        )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.rotate_view)
        return [path("rotate/", view, name="oauth_token_signingkey_rotate"), *super().get_urls()]

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        """Rotate (or create the first keys of) one algorithm's ring, also with no key yet."""
        if not self.has_rotate_permission(request):
            return HttpResponse(status=403)
        form = RotateForm(
            request.POST or None, initial={"alg": oauth_settings.DEFAULT_SIGNING_ALGORITHM}
        )
        if request.method == "POST" and form.is_valid():
            self._rotate(request, form.cleaned_data["alg"])
            return HttpResponseRedirect(reverse("admin:oauth_token_signingkey_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Rotate signing keys",
            "form": form,
        }
        return TemplateResponse(request, "admin/oauth_token/signingkey/rotate.html", context)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_rotate": self.has_rotate_permission(request)}
        return super().changelist_view(request, extra_context)
