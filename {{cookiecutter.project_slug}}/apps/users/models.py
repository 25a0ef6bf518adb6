from django.contrib.auth.models import AbstractUser
{%- if cookiecutter.example_workflows %}
from django.db import models
{%- endif %}


class User(AbstractUser):
{%- if cookiecutter.example_workflows %}
    """The project's user (set before the first migration, as Django advises);
    the timestamps are written by the example's activities."""

    onboarded_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when onboarding processed the user."
    )
    last_processed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set each time a batch processed the user."
    )
{%- else %}
    """The project's user, set before the first migration as Django advises:
    fields added here later need only a migration."""
{%- endif %}

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
