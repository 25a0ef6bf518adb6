"""The welcome emails' SMTP timeout is checked at startup: it must end a
hung send before Temporal times the email activity out."""

import pytest
from django.test import override_settings

from config.settings.base import mailer
from temporal_app.checks import check_email_timeout, check_positive_settings

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def smtp_mailer(**options) -> dict:
    """MAILERS whose default mailer is Django's SMTP backend, with `options`."""
    return {
        "default": {
            "BACKEND": SMTP_BACKEND,
            "OPTIONS": {"host": "localhost", **options},
        }
    }


def test_the_test_settings_pass():
    assert check_email_timeout(None) == []


def test_the_smtp_mailer_of_the_project_settings_passes(monkeypatch):
    """The test settings swap in the locmem backend; production's is SMTP."""
    monkeypatch.delenv("EMAIL_TIMEOUT", raising=False)
    with override_settings(MAILERS={"default": mailer(SMTP_BACKEND)}):
        assert check_email_timeout(None) == []


# (the default mailer's options, what the error says)
# fmt: off
BAD_TIMEOUTS = [
    pytest.param({}, "EMAIL_TIMEOUT (the default mailer's SMTP timeout) is None", id="unset"),
    pytest.param({"timeout": 0}, "EMAIL_TIMEOUT (the default mailer's SMTP timeout) is 0; it must be positive", id="zero"),
    pytest.param({"timeout": 60.0}, "is 60.0; it must be positive and below the email activity's start_to_close_timeout (60 s)", id="not-below-the-activity-timeout"),
]
# fmt: on


@pytest.mark.parametrize(("options", "message"), BAD_TIMEOUTS)
def test_a_bad_email_timeout_is_named(options, message):
    with override_settings(MAILERS=smtp_mailer(**options)):
        errors = check_email_timeout(None)

    assert [error.id for error in errors] == ["temporal_app.E012"]
    assert message in errors[0].msg
    assert errors[0].hint


def test_a_reconcile_interval_that_is_not_positive_is_named(settings):
    settings.TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS = 0

    [error] = check_positive_settings(None)

    assert error.id == "temporal_app.E015"
    assert (
        error.msg == "TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS must be positive"
    )
