from django.apps import AppConfig


class OAuthTokenConfig(AppConfig):
    name = "oauth_token"
    verbose_name = "OAuth token server"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers checks and cache invalidation)
