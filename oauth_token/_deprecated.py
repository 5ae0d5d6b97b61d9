"""Old dotted paths that settings or projects may still name, kept working for one release.

Modules moved in the 0.2 layout (``core/``, ``registry/``, ``tokens/``, ...). A project whose
settings say ``"oauth_token.throttling.remote_addr"`` keeps working and is told, with a
``DeprecationWarning``, where the object lives now.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string


def moved(old: str, new: str) -> Any:
    """The object at ``new``, with a warning that ``old`` is deprecated."""
    warnings.warn(
        f"{old} has moved to {new}; the old path will be removed in a later release.",
        DeprecationWarning,
        stacklevel=3,
    )
    return import_string(new)


def module_shim(old_module: str, new_module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) forwarding every public name to ``new_module``."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return moved(f"{old_module}.{name}", f"{new_module}.{name}")

    return __getattr__
