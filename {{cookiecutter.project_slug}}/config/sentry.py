"""Error reporting to Sentry for the web process and the worker, called by the
local and production settings (docs: the observability guide).
"""

import sentry_sdk
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.utils import BadDsn

from django_temporal_bridge.sentry import without_email_addresses


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
            # No personal data: no users, cookies or request bodies, no
            # variables of the failing frames (an email's address and body),
            # no email address in any text.
            send_default_pii=False,
            include_local_variables=False,
            before_send=without_email_addresses,
        )
    except BadDsn as error:
        raise ImproperlyConfigured(
            f"SENTRY_DSN is not a valid Sentry DSN ({error}); copy it from the "
            "Sentry project's Client Keys page, or leave it empty."
        ) from error
    return True
