from django.apps import AppConfig


class TemporalAppConfig(AppConfig):
    name = "temporal_app"
    verbose_name = "Temporal workflows"

    def ready(self) -> None:
        # Registers the system checks that validate the TEMPORAL_* settings.
        from . import checks  # noqa: F401
