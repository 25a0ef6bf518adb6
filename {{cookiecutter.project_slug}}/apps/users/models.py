import re

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxLengthValidator, RegexValidator
{%- if cookiecutter.example_workflows %}
from django.db import models
{%- endif %}

# Text a stranger types reaches emails (allauth's print the username, ours say
# hi by name): a name is words of letters or digits joined by single spaces,
# ', - or _, short, so "Your account is locked: verify at evil.example" is
# never mailed as a message or a link.
MAIL_NAME = re.compile(r"[^\W_]+(?:[ '_-][^\W_]+)*")
MAIL_NAME_MAX_LENGTH = 40
# What sign-up accepts as a username (ACCOUNT_USERNAME_VALIDATORS), a mail
# name; staff in the admin keep Django's wider rules.
SIGNUP_USERNAME_VALIDATORS = [
    MaxLengthValidator(MAIL_NAME_MAX_LENGTH),
    RegexValidator(
        r"^[^\W_]+(?:[_-][^\W_]+)*\Z",
        "Use letters and digits, joined by single - or _.",
    ),
]


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

    class Meta(AbstractUser.Meta):
        # What admin actions need beyond view and change (admin.py).
        permissions = [
            ("export_users", "Can export users"),
{%- if cookiecutter.example_workflows %}
            ("process_users", "Can process users in a batch"),
{%- endif %}
        ]

    @property
    def mail_name(self) -> str:
        """Who our emails say hi to: the full name or else the username, if it
        is a plain name (MAIL_NAME); else "there"."""
        for name in (self.get_full_name(), self.username):
            if len(name) <= MAIL_NAME_MAX_LENGTH and MAIL_NAME.fullmatch(name):
                return name
        return "there"
