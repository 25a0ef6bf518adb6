from django.apps import AppConfig


class TemporalAppConfig(AppConfig):
    name = "temporal_app"
    verbose_name = "Temporal workflows"
{%- if cookiecutter.example_workflows %}

    def ready(self) -> None:
        # The system check of the example's email settings, and the signal
        # that starts onboarding for new users.
        from . import checks, signals  # noqa: F401
{%- endif %}
