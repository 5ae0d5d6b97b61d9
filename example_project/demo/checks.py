"""Warn when the example project runs without DEBUG on development defaults."""

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register("demo")
def dev_defaults_outside_debug(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    in_use = getattr(settings, "EXAMPLE_DEV_DEFAULTS", [])
    if settings.DEBUG or not in_use:
        return []
    return [
        Warning(
            f"DEBUG is off but {', '.join(in_use)} still use development defaults.",
            hint="Set them in the environment before exposing this server.",
            id="demo.W001",
        )
    ]
