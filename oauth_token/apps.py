from django.apps import AppConfig


class OAuthTokenConfig(AppConfig):
    name = "oauth_token"
    verbose_name = "OAuth token server"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers checks, cache invalidation and the auth_time session recorder.
        from . import checks, login, signals  # noqa: F401
