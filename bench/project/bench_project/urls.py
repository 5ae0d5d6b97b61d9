from django.urls import include, path

from . import floor, variants

urlpatterns = [
    path("floor/sign", floor.sign_only),
    path("floor/sign-twice", floor.sign_twice),
    path("floor/verify-and-sign", floor.verify_and_sign),
    path("floor/db/sign", floor.db_sign),
    path("floor/db/sign-twice", floor.db_sign_twice),
    path("floor/password-sign", floor.password_sign),
    path("floor/db/password-sign", floor.db_password_sign),
    path("variant/claims-hook/oauth/token", variants.EmptyClaimsHook.as_view()),
    path("variant/audit-log/oauth/token", variants.AuditLog.as_view()),
    path("dot/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("", include("oauth_token.urls")),
]
