import contextlib

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_started


class TemporalBridgeConfig(AppConfig):
    name = "django_temporal_bridge"
    verbose_name = "Temporal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the system checks)

        request_started.connect(connect_on_first_request, dispatch_uid=__name__)


def connect_on_first_request(**kwargs) -> None:
    """A process that serves requests connects the shared client at its first
    one (a health probe, a page), not at its first start: a TLS handshake a
    region away would take most of that start's budget."""
    from .client import shared_client

    request_started.disconnect(dispatch_uid=__name__)
    # A bad setting is not this request's error: a call to Temporal names it.
    with contextlib.suppress(ImproperlyConfigured):
        shared_client.connect_soon()
