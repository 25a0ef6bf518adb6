from django.apps import AppConfig


class TemporalAppConfig(AppConfig):
    name = "temporal_app"
    verbose_name = "Temporal workflows"
{%- if cookiecutter.example_workflows %}

    def ready(self) -> None:
        # Registers the example's system checks and its signal.
        from . import checks, signals  # noqa: F401
{%- endif %}
