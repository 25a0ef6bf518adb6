"""System checks of the example workflows' settings (the package checks the rest)."""

from django.conf import settings
from django.core.checks import Error, register

from .workflows import EMAIL_TIMEOUT as EMAIL_ACTIVITY_TIMEOUT

# The default of a MAILERS entry's BACKEND; its `timeout` option is checked.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@register("temporal")
def check_email_timeout(app_configs, **kwargs) -> list[Error]:
    """A hung SMTP server must fail the send before the activity times out."""
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


# The example's settings that must be positive, with their check ids.
POSITIVE = {
    "TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS": "temporal_app.E015",
}


@register("temporal")
def check_positive_settings(app_configs, **kwargs) -> list[Error]:
    return [
        Error(f"{name} must be positive", hint="Fix the value.", id=error_id)
        for name, error_id in POSITIVE.items()
        if getattr(settings, name) <= 0
    ]
