"""Clients and their client grants.

A client secret exists in clear only on the one page that follows its creation or rotation:
the POST redirects to a one-time URL (``one_time.py``, Post/Redirect/Get), so a reload neither
creates a second client nor rotates again; that page is ``Cache-Control: no-store`` and every
later page shows only whether a secret is set. Rotating asks for confirmation first and needs
the *change* permission on clients.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from oauth_token.admin import one_time
from oauth_token.admin.confirm import confirm
from oauth_token.models import Client, ClientGrant
from oauth_token.models.clients import SECRET_AUTH_METHODS
from oauth_token.models.url_fields import CalledURLFormField
from oauth_token.registry import provisioning

_NEW_SECRETS = "_oauth_token_new_secrets"


class OptionalJSONField(forms.JSONField):
    """A JSON box that is empty, not ``null``, when there is nothing in it."""

    def prepare_value(self, value: Any) -> Any:
        return "" if value is None else super().prepare_value(value)


class ClientForm(forms.ModelForm):
    grant_types = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    redirect_uris = forms.CharField(
        required=False,
        label="Redirect URIs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One absolute URI per line (RFC 6749 §3.1.2).",
    )
    post_logout_redirect_uris = forms.CharField(
        required=False,
        label="Post-logout redirect URIs",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One absolute URI per line: where /oidc/logout may send the person afterwards "
        "(OIDC RP-Initiated Logout 1.0 §3.1, exact match).",
    )
    jwks_uri = CalledURLFormField(
        required=False,
        assume_scheme="https",
        label="JWKS URI",
        help_text="Where to fetch the client's JWK Set (instead of pasting it).",
    )
    backchannel_logout_uri = CalledURLFormField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        help_text="Receives a logout token (OIDC Back-Channel Logout 1.0) when a session the "
        "client took part in ends.",
        label="Back-channel logout URI",
    )
    jwks = OptionalJSONField(
        required=False,
        label="JWKS",
        help_text="The client's public JWK Set, for private_key_jwt; empty when it has none.",
    )

    class Meta:
        model = Client
        exclude: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grant_types = self.fields["grant_types"]
        assert isinstance(grant_types, forms.MultipleChoiceField)
        grant_types.choices = [(g, g) for g in provisioning.known_grant_types()]
        if self.instance.pk is None and not self.is_bound:
            self.initial["grant_types"] = list(provisioning.DEFAULT_GRANT_TYPES)
        for name in ("redirect_uris", "post_logout_redirect_uris"):
            uris = self.initial.get(name)
            if isinstance(uris, list):
                self.initial[name] = "\n".join(uris)

    def clean_redirect_uris(self) -> list[str]:
        return list(dict.fromkeys(str(self.cleaned_data.get("redirect_uris") or "").split()))

    def clean_post_logout_redirect_uris(self) -> list[str]:
        value = str(self.cleaned_data.get("post_logout_redirect_uris") or "")
        return list(dict.fromkeys(value.split()))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            provisioning.validate_client_settings(
                client_type=data.get("client_type", ""),
                auth_method=data.get("token_endpoint_auth_method", ""),
                grant_types=data.get("grant_types") or [],
                redirect_uris=data.get("redirect_uris") or [],
                jwks=data.get("jwks"),
                jwks_uri=data.get("jwks_uri") or "",
                post_logout_redirect_uris=data.get("post_logout_redirect_uris") or [],
                backchannel_logout_uri=data.get("backchannel_logout_uri") or "",
            )
        except ValidationError as exc:
            self._add_named_errors(exc)
        return data

    def _add_named_errors(self, exc: ValidationError) -> None:
        """Provisioning names the field of each refusal: shown beside that field when the
        form has it, else above the form with the field's name."""
        for message in provisioning.messages_naming_fields(exc):
            field, _, text = message.partition(": ")
            if text and field in self.fields:
                self.add_error(field, text)
            else:
                self.add_error(None, message)


class ClientGrantForm(forms.ModelForm):
    scopes = forms.CharField(
        required=False,
        help_text="Space-separated scopes of the API; empty grants every scope it has.",
    )

    class Meta:
        model = ClientGrant
        fields = ["client", "api", "scopes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = self.initial.get("scopes")
        if isinstance(scopes, list):
            self.initial["scopes"] = " ".join(scopes)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        api = data.get("api")
        if api is None:
            return data
        known = list(api.scopes.values_list("name", flat=True))
        wanted = list(dict.fromkeys(str(data.get("scopes") or "").split())) or sorted(known)
        unknown = [s for s in wanted if s not in known]
        if unknown:
            self.add_error("scopes", f"{api.identifier} has no scope(s): {', '.join(unknown)}.")
        data["scopes"] = wanted
        return data


class ClientGrantInline(admin.TabularInline):
    model = ClientGrant
    form = ClientGrantForm
    extra = 0
    autocomplete_fields = ["api"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    list_display = [
        "name",
        "client_id",
        "client_type",
        "token_endpoint_auth_method",
        "is_active",
        "first_party",
        "created_at",
    ]
    list_filter = [
        "client_type",
        "token_endpoint_auth_method",
        "is_active",
        "first_party",
        "require_dpop",
        "require_par",
    ]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "secret_status", "created_at", "updated_at"]
    inlines = [ClientGrantInline]
    actions = ["rotate_secret"]

    @admin.display(description="Client secret")
    def secret_status(self, obj: Client) -> str:
        if obj.token_endpoint_auth_method not in SECRET_AUTH_METHODS:
            return "None (this auth method uses no secret)"
        if not obj.secret_digest:
            return "Not set yet: one is generated and shown once when you save"
        return (
            "Set; only its SHA-256 digest is stored. Use the 'Rotate secret' action to replace it."
        )

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        secret = provisioning.ensure_secret(obj)
        super().save_model(request, obj, form, change)
        if not change:
            provisioning.announce_client(obj, "admin", request)
        if secret:
            setattr(request, _NEW_SECRETS, [(obj, secret)])

    def response_add(self, request: HttpRequest, obj: Client, *args: Any) -> HttpResponse:
        return self._to_secret_page(request) or super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Client) -> HttpResponse:
        return self._to_secret_page(request) or super().response_change(request, obj)

    @admin.action(description="Rotate secret (shows the new secret once)", permissions=["change"])
    @confirm(
        title="Rotate client secrets?",
        consequence=(
            "Each selected client gets a new secret, shown once on the next page. The current "
            "secret stops working at once: every application using it fails to get tokens "
            "until it is given the new one."
        ),
        button="Yes, rotate the secrets",
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> Any:
        rotated, skipped = [], []
        for client in queryset:
            if client.token_endpoint_auth_method in SECRET_AUTH_METHODS:
                rotated.append((client, provisioning.rotate_secret(client)))
            else:
                skipped.append(client.name)
        if skipped:
            messages.warning(
                request, f"No secret to rotate (auth method uses none): {', '.join(skipped)}."
            )
        if not rotated:
            return None
        setattr(request, _NEW_SECRETS, rotated)
        return self._to_secret_page(request)

    def _to_secret_page(self, request: HttpRequest) -> HttpResponse | None:
        """Redirect (Post/Redirect/Get) to the one page that shows the new secrets."""
        shown = getattr(request, _NEW_SECRETS, None)
        if not shown:
            return None
        token = one_time.stash(request, shown)
        return HttpResponseRedirect(reverse("admin:oauth_token_client_secret", args=[token]))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.secret_view)
        return [
            path("secret/<str:token>/", view, name="oauth_token_client_secret"),
            *super().get_urls(),
        ]

    def secret_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """The secrets just created, once; a reload says they cannot be shown again."""
        shown = one_time.take(request, token)
        clients = Client.objects.in_bulk([item.client_pk for item in shown or ()])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Client secret — shown only once" if shown else "Client secret already shown",
            "shown": [
                {
                    "client": clients[item.client_pk],
                    "secret": item.secret,
                    "url": reverse("admin:oauth_token_client_change", args=[item.client_pk]),
                }
                for item in shown or ()
                if item.client_pk in clients
            ],
            "changelist_url": reverse("admin:oauth_token_client_changelist"),
        }
        response = TemplateResponse(
            request, "admin/oauth_token/client/secret.html", context, status=200 if shown else 410
        )
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response


@admin.register(ClientGrant)
class ClientGrantAdmin(admin.ModelAdmin):
    form = ClientGrantForm
    list_display = ["client", "api", "scope_list", "created_at"]
    list_filter = ["api"]
    search_fields = ["client__name", "client__client_id", "api__identifier", "api__name"]
    autocomplete_fields = ["client", "api"]
    list_select_related = ["client", "api"]

    @admin.display(description="Scopes")
    def scope_list(self, obj: ClientGrant) -> str:
        return " ".join(obj.scopes or [])
