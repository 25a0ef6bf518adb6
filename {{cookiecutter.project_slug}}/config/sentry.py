"""Error reporting to Sentry, for Django and the worker (sentry-sdk).

`init_sentry` runs at the end of the local and production settings, so every
process that loads them reports: the web process (unhandled view errors,
through sentry-sdk's Django integration; ERROR log records too) and the
worker (failed activities, once each: django_temporal_bridge.sentry). With
SENTRY_DSN empty or unset, Sentry is not initialised at all. The test
settings never initialise it.
"""

import sentry_sdk
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.utils import BadDsn


def init_sentry(dsn: str, environment: str = "") -> bool:
    """Initialise sentry-sdk when `dsn` is set; return whether it did.

    Errors only: traces are OpenTelemetry's (django_temporal_bridge/tracing.py). User data
    (emails, IP addresses) is left out of reports, sentry-sdk's default. Raise
    ImproperlyConfigured naming SENTRY_DSN when it is not a valid DSN.
    """
    if not dsn:
        return False
    try:
        sentry_sdk.init(
            dsn=dsn,
            # Sentry's default, "production", when unset.
            environment=environment or None,
            integrations=[DjangoIntegration()],
        )
    except BadDsn as error:
        raise ImproperlyConfigured(
            f"SENTRY_DSN is not a valid Sentry DSN ({error}); copy it from the "
            "Sentry project's Client Keys page, or leave it empty."
        ) from error
    return True
