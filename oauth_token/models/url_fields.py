"""URLs this server itself calls (a client's ``jwks_uri``, its ``backchannel_logout_uri``):
http(s) URLs whose host may be a single DNS label.

Django's ``URLValidator`` wants a dotted host name (or ``localhost``), so it refuses
``http://rp:8080/logout``, the way services name each other in docker-compose and Kubernetes.
Whether such a host may be called is not the validator's to decide: every request to a URL a
client chose goes through ``core/outbound.py``, which resolves the name at send time and
refuses loopback, private and reserved addresses unless ``OUTBOUND_ALLOW_PRIVATE_ADDRESSES``.
A dotless name accepted here therefore reaches an internal service only where the operator
allowed private addresses, exactly as ``http://rp.internal/`` would.

The model field differs from ``models.URLField`` in its validation only (the column is the
same), so it deconstructs as ``models.URLField``: no migration pins this module's path, and
historical models in migrations are plain URL fields.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models


class CalledURLValidator(URLValidator):
    """``URLValidator`` for http and https, also accepting a single-label host (``rp``). Refused
    besides what it refuses: a host of digits alone (``http://10/``, which resolvers read as an
    IPv4 address), a port out of range, and credentials in the URL (the outbound module would
    refuse to send them)."""

    host_re = (
        "("
        + URLValidator.hostname_re
        + URLValidator.domain_re
        + URLValidator.tld_re
        + "|"
        + URLValidator.hostname_re
        + ")"
    )
    regex = re.compile(
        r"^(?:[a-z0-9.+-]*)://"
        r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
        r"(?:" + URLValidator.ipv4_re + "|" + URLValidator.ipv6_re + "|" + host_re + ")"
        r"(?::[0-9]{1,5})?"
        r"(?:[/?#][^\s]*)?"
        r"\Z",
        re.IGNORECASE,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes=["http", "https"], **kwargs)

    def __call__(self, value: Any) -> None:
        super().__call__(value)
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 (raises ValueError when out of range)
        except ValueError:
            raise ValidationError(self.message, code=self.code, params={"value": value}) from None
        if (parts.hostname or "").isdigit() or parts.username is not None:
            raise ValidationError(self.message, code=self.code, params={"value": value})


class CalledURLFormField(forms.URLField):
    default_validators = [CalledURLValidator()]


class CalledURLField(models.URLField):
    default_validators = [CalledURLValidator()]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": CalledURLFormField, **kwargs})

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.URLField", args, kwargs
