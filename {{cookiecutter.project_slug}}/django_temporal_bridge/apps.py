from django.apps import AppConfig


class TemporalBridgeConfig(AppConfig):
    name = "django_temporal_bridge"
    verbose_name = "Temporal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the system checks)
