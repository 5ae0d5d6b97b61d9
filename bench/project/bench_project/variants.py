"""The token endpoint with one feature switched on for the request, for the ``cc_overhead``
scenario: the same gunicorn serves the baseline and each variant, interleaved, so their ratio
is the feature's cost and not the machine's noise.

A sync gunicorn worker serves one request at a time, so switching a setting for the duration of
one request (in ``oauth_settings``' resolved values) affects no other request.
"""

from __future__ import annotations

from typing import Any

from oauth_token.conf import oauth_settings
from oauth_token.views.token import TokenView

_UNSET = object()


def empty_claims_hook(claims: Any, context: Any) -> dict[str, Any]:
    """An ACCESS_TOKEN_CLAIMS hook that adds nothing: the cost of the mechanism itself."""
    return {}


class _Variant(TokenView):
    overrides: dict[str, Any] = {}

    def post(self, request: Any) -> Any:
        saved = {name: oauth_settings._cached.get(name, _UNSET) for name in self.overrides}
        oauth_settings._cached.update(self.overrides)
        try:
            return super().post(request)
        finally:
            for name, value in saved.items():
                if value is _UNSET:
                    oauth_settings._cached.pop(name, None)
                else:
                    oauth_settings._cached[name] = value


class EmptyClaimsHook(_Variant):
    overrides = {"ACCESS_TOKEN_CLAIMS": empty_claims_hook}


class AuditLog(_Variant):
    overrides = {"AUDIT_LOG": True}
