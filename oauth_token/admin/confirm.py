"""A confirmation page before a destructive admin action, as Django's ``delete_selected`` has.

``@confirm(...)`` wraps an action: the first POST (from the changelist) answers a page that
lists the selected objects and says what will happen; the action runs only when that page is
submitted (``post=yes``), with the same selection. "No, take me back" changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

TEMPLATE = "admin/oauth_token/confirm_action.html"

Action = TypeVar("Action", bound=Callable[..., Any])


def confirm(title: str, consequence: str, button: str) -> Callable[[Action], Action]:
    """Ask before running the wrapped action; ``consequence`` says what cannot be undone."""

    def decorate(action: Action) -> Action:
        @functools.wraps(action)
        def wrapper(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
            if request.POST.get("post") == "yes":
                return action(modeladmin, request, queryset)
            return page(modeladmin, request, queryset, action.__name__, title, consequence, button)

        return cast(Action, wrapper)

    return decorate


def page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    action: str,
    title: str,
    consequence: str,
    button: str,
) -> HttpResponse:
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": title,
        "consequence": consequence,
        "button": button,
        "objects": list(queryset),
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
