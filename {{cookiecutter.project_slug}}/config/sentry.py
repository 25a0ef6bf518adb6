"""Error reporting to Sentry for the web process and the worker, called by the
local and production settings (docs: the observability guide).
"""

import sentry_sdk
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.utils import BadDsn


def init_sentry(dsn: str, environment: str = "") -> bool:
    """Initialise sentry-sdk (errors only) when `dsn` is set; return whether it did."""
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
