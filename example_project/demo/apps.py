from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Example project demo"

    def ready(self) -> None:
        from . import checks  # noqa: F401
