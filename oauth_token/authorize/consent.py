"""Asking a person to allow a client access, and remembering the answer (OIDC Core §3.1.2.4).

Shared by every flow that puts a person in front of a consent page: /authorize, and /activate
for device authorization (RFC 8628 §3.3). A flow builds a ``ConsentPrompt``, asks
``is_required``, renders ``render`` with its own form action and hidden fields, and reads the
button the person pressed with ``decision``; ``remember`` stores an "allow".

Consent is kept per user, client and API (empty audience for OpenID Connect scopes only) as the
set of scopes allowed so far; a request is covered when its scopes are a subset. First-party
clients never ask (the operator consents on the person's behalf), unless the client forces the
page with ``prompt=consent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from oauth_token import signals
from oauth_token.authorize import codes
from oauth_token.models import Consent
from oauth_token.registry import roles
from oauth_token.registry.snapshots import ApiInfo, ClientInfo
from oauth_token.signals import send_after_commit
from oauth_token.tokens import refresh_tokens

TEMPLATE = "oauth_token/consent.html"
ALLOW, DENY = "allow", "deny"

# Human descriptions of the OpenID Connect scopes (OIDC Core §5.4, §11).
OIDC_SCOPE_DESCRIPTIONS: dict[str, Any] = {
    "openid": _("Sign you in and know who you are"),
    "profile": _("Your name, username and profile details"),
    "email": _("Your email address"),
    "offline_access": _("Stay connected when you are not using it"),
}


@dataclass(frozen=True)
class ScopeItem:
    name: str
    description: str


@dataclass(frozen=True)
class ConsentPrompt:
    """What the person is asked to allow."""

    client: ClientInfo
    api: ApiInfo | None
    scopes: tuple[str, ...]
    # RFC 8707: further APIs of a request naming several resources.
    more_apis: tuple[ApiInfo, ...] = ()

    @property
    def audience(self) -> str:
        return self.api.identifier if self.api else ""

    def items(self) -> list[ScopeItem]:
        described = dict(OIDC_SCOPE_DESCRIPTIONS)
        for api in ((self.api,) if self.api else ()) + self.more_apis:
            described.update({k: v for k, v in api.scope_descriptions.items() if v})
        return [ScopeItem(s, described.get(s, s)) for s in self.scopes]

    def per_audience(self) -> list[tuple[str, tuple[str, ...]]]:
        """Consent is kept per API: each API's share of the scopes (its own and OpenID's)."""
        if not self.more_apis:
            return [(self.audience, self.scopes)]
        apis = ((self.api,) if self.api else ()) + self.more_apis
        every_api_scope = {s for api in apis for s in api.scopes}
        return [
            (
                api.identifier,
                tuple(s for s in self.scopes if s in api.scopes or s not in every_api_scope),
            )
            for api in apis
        ]


def prompt_for(
    user: Any,
    client: ClientInfo,
    api: ApiInfo | None,
    scopes: tuple[str, ...],
    more_apis: tuple[ApiInfo, ...] = (),
) -> ConsentPrompt:
    """What ``user`` is asked to allow: only what can be granted, so an API with RBAC shows
    none of its scopes the user's roles do not hold (they would be dropped at issuance);
    with several APIs (RFC 8707), each limits its own scopes."""
    for each in (api, *more_apis):
        scopes = roles.grantable(user, each, scopes)
    return ConsentPrompt(client=client, api=api, scopes=scopes, more_apis=more_apis)


def is_required(user: Any, prompt: ConsentPrompt, *, force: bool = False) -> bool:
    """True when the page must be shown: forced, or a third-party client asks for scopes this
    person has not allowed it yet. A client described by a metadata document is asked about
    every time: its document, and so what the person was shown, may have changed since."""
    if force or prompt.client.from_metadata_document:
        return True
    if prompt.client.first_party:
        return False
    for audience, scopes in prompt.per_audience():
        row = Consent.objects.filter(
            user=user, client_id=prompt.client.pk, audience=audience
        ).first()
        if row is None or not row.covers(scopes):
            return True
    return False


def remember(user: Any, prompt: ConsentPrompt, request: HttpRequest | None = None) -> Consent:
    """Add the prompt's scopes to what this person allowed this client, for each API;
    ``consent_granted`` is sent (per API) once that commits."""
    rows = [
        _remember(user, prompt.client, audience, scopes, request)
        for audience, scopes in prompt.per_audience()
    ]
    return rows[0]


def _remember(
    user: Any,
    client: ClientInfo,
    audience: str,
    scopes: tuple[str, ...],
    request: HttpRequest | None,
) -> Consent:
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row, created = Consent.objects.select_for_update().get_or_create(
                    user=user,
                    client_id=client.pk,
                    audience=audience,
                    defaults={"scopes": list(scopes)},
                )
                if not created and not row.covers(scopes):
                    row.scopes = sorted(set(row.scopes or ()) | set(scopes))
                    row.save(update_fields=["scopes", "updated_at"])
                send_after_commit(
                    signals.consent_granted,
                    Consent,
                    client_id=client.client_id,
                    user=user,
                    scopes=list(scopes),
                    request=request,
                )
                return row
        except IntegrityError:
            continue  # a concurrent first consent created the row; update it instead
    raise RuntimeError("Could not record consent.")


def revoke(user: Any, client_id: str | None = None, request: HttpRequest | None = None) -> int:
    """Forget what this person allowed (one client, or every client); the next authorization
    asks again. Returns the number of consents removed."""
    rows = Consent.objects.filter(user=user)
    if client_id is not None:
        rows = rows.filter(client__client_id=client_id)
    return revoke_rows(rows, request)


def revoke_rows(rows: QuerySet[Consent], request: HttpRequest | None = None) -> int:
    """Delete these consents and end what they granted, sending ``consent_revoked`` for each
    once that commits (the admin's revoke action uses this too). For each (person, client),
    every refresh-token family is revoked (so no refresh rotates again, RFC 9700 §4.14.2) and
    every unexpired access token issued from those families or from that client's
    authorization codes for that person is denylisted (RFC 7009 §2.1)."""
    removed = 0
    pairs: set[tuple[Any, int]] = set()
    with transaction.atomic():
        for row in rows.select_related("client", "user"):
            send_after_commit(
                signals.consent_revoked,
                Consent,
                client_id=row.client.client_id,
                user=row.user,
                scopes=list(row.scopes or ()),
                request=request,
            )
            pairs.add((row.user_id, row.client_id))
            row.delete()
            removed += 1
        for user_id, client_pk in sorted(pairs):
            refresh_tokens.revoke_families("consent revoked", user_id=user_id, client_id=client_pk)
            codes.revoke_issued_to(user_id, client_pk, "consent revoked")
    return removed


def decision(request: HttpRequest) -> bool | None:
    """The button pressed: True for allow, False for deny, None for anything else."""
    value = request.POST.get("decision")
    if value == ALLOW:
        return True
    if value == DENY:
        return False
    return None


def render(
    request: HttpRequest,
    prompt: ConsentPrompt,
    *,
    action: str,
    hidden: Mapping[str, str],
    template: str = TEMPLATE,
    extra_context: Mapping[str, Any] | None = None,
    return_to: str = "",
) -> HttpResponse:
    """The consent form: POSTs ``hidden`` plus ``decision`` (allow/deny) to ``action``, with
    Django's CSRF token. Framing is refused so the buttons cannot be clickjacked.
    ``return_to`` is where "Not you? Sign out" leads after signing out: the same request, so
    the right person can sign in and answer it."""
    context = {
        "client_name": prompt.client.name,
        # draft-ietf-oauth-client-id-metadata-document, "OAuth Phishing Attacks": the host of
        # a URL client_id is shown, so a name alone cannot pass for another application.
        "client_host": (
            urlsplit(prompt.client.client_id).hostname
            if prompt.client.from_metadata_document
            else None
        ),
        "api": prompt.api,
        "more_apis": prompt.more_apis,
        "scopes": prompt.items(),
        "action": action,
        "hidden": dict(hidden),
        "user": request.user,
        "return_to": return_to,
        **(extra_context or {}),
    }
    response = TemplateResponse(request, template, context)
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    response["Cache-Control"] = "no-store"
    # same-origin keeps the Origin header on the form's POST (CSRF checks it), unlike
    # no-referrer, with which browsers send "Origin: null".
    response["Referrer-Policy"] = "same-origin"
    return response
