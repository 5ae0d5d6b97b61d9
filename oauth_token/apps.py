from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core import checks as django_checks
from django.core.signals import setting_changed
from django.db.models.signals import post_migrate, pre_delete


class OAuthTokenConfig(AppConfig):
    name = "oauth_token"
    verbose_name = "OAuth token server"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every receiver and system check is connected here, in one list, rather than as a
        side effect of importing the module that defines it."""
        # Imported here: they import models, which Django loads only after every app config.
        from oauth_token import checks, conf, deploy_checks, grants
        from oauth_token.authorize import login, logout, sessions
        from oauth_token.core import cache, endpoints, resource_metadata
        from oauth_token.events import receivers as event_receivers
        from oauth_token.models import ChangeGeneration, Client
        from oauth_token.registry import first_key, invalidation
        from oauth_token.tokens import refresh_tokens

        setting_changed.connect(conf.reload_on_change, dispatch_uid="oauth_token.conf")
        setting_changed.connect(endpoints.clear_cache, dispatch_uid="oauth_token.endpoints")
        setting_changed.connect(cache.forget_backend, dispatch_uid="oauth_token.cache_backend")
        setting_changed.connect(grants.clear_registry, dispatch_uid="oauth_token.grants")
        setting_changed.connect(
            resource_metadata.clear_cache, dispatch_uid="oauth_token.resource_metadata"
        )
        user_logged_in.connect(login.record_auth_time, dispatch_uid="oauth_token.auth_time")
        user_logged_in.connect(sessions.start, dispatch_uid="oauth_token.session_start")
        user_logged_out.connect(logout.session_ended, dispatch_uid="oauth_token.session_end")
        invalidation.connect()
        cache.use_database_generation(ChangeGeneration)
        post_migrate.connect(
            first_key.create_first_keys, sender=self, dispatch_uid="oauth_token.first_key"
        )
        event_receivers.connect()
        pre_delete.connect(
            refresh_tokens.revoke_for_deleted_client,
            sender=Client,
            dispatch_uid="oauth_token.revoke_for_deleted_client",
        )
        pre_delete.connect(
            refresh_tokens.revoke_for_deleted_user,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="oauth_token.revoke_for_deleted_user",
        )
        for check in checks.CHECKS:
            django_checks.register(check, "oauth_token")
        for check in deploy_checks.DEPLOY_CHECKS:
            django_checks.register(check, "oauth_token", deploy=True)
