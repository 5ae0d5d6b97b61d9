from django.urls import include, path

from . import floor, variants

# The bench's own views sit under two prefixes, so that a request for anything else (the
# token endpoint, django-oauth-toolkit) is refused by them in two prefix checks instead of
# being tried against each of their nine patterns first; a floor request is resolved one
# include deep, as the token endpoint is. (Listed flat before, they cost every contender but
# the floor ~190 k instructions per request, 2.4 % of a client_credentials request, counted
# with bench/inprocess.py --callgrind; nested, the floor pays ~30 k more.)
floor_patterns = [
    path("sign", floor.sign_only),
    path("sign-twice", floor.sign_twice),
    path("verify-and-sign", floor.verify_and_sign),
    path("db/sign", floor.db_sign),
    path("db/sign-twice", floor.db_sign_twice),
    path("password-sign", floor.password_sign),
    path("db/password-sign", floor.db_password_sign),
]
variant_patterns = [
    path("claims-hook/oauth/token", variants.EmptyClaimsHook.as_view()),
    path("audit-log/oauth/token", variants.AuditLog.as_view()),
]

urlpatterns = [
    path("floor/", include(floor_patterns)),
    path("variant/", include(variant_patterns)),
    path("dot/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("", include("oauth_token.urls")),
]
