"""System check of the example workflows' own needs: the welcome emails.

(The checks of the Temporal configuration are in core/checks.py.)
"""

from django.conf import settings
from django.core.checks import Error, register

from .workflows import EMAIL_TIMEOUT as EMAIL_ACTIVITY_TIMEOUT

# The default of a MAILERS entry's BACKEND; its `timeout` option is checked.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@register("temporal")
def check_email_timeout(app_configs, **kwargs) -> list[Error]:
    """An SMTP server that stops answering must fail the send before Temporal
    times the email activity out."""
    mailer = settings.MAILERS.get("default", {})
    if mailer.get("BACKEND", SMTP_BACKEND) != SMTP_BACKEND:
        return []
    timeout = mailer.get("OPTIONS", {}).get("timeout")
    limit = EMAIL_ACTIVITY_TIMEOUT.total_seconds()
    if timeout is not None and 0 < timeout < limit:
        return []
    return [
        Error(
            f"EMAIL_TIMEOUT (the default mailer's SMTP timeout) is {timeout!r}; it "
            f"must be positive and below the email activity's "
            f"start_to_close_timeout ({limit:g} s)",
            hint="Set EMAIL_TIMEOUT to a few seconds, e.g. 10.",
            id="temporal_app.E012",
        )
    ]
