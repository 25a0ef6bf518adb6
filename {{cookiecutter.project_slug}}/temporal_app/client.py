"""Connecting to Temporal with the project's settings.

A Temporal client belongs to the event loop that created it: connect inside
the loop that uses it, and do not keep one across `asyncio.run` or
`async_to_sync` calls.
"""

from pathlib import Path

from django.conf import settings
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from .checks import require_valid_client_settings


def tls_config() -> TLSConfig | bool:
    """TLS from the TEMPORAL_TLS* settings: off, on, or mutual TLS.

    TLS is on when TEMPORAL_TLS asks for it, and whenever a setting only TLS
    uses is set: an API key (Temporal Cloud), a client certificate, a server
    CA certificate or a server name."""

    def read(path: str) -> bytes | None:
        return Path(path).read_bytes() if path else None

    client_cert = read(settings.TEMPORAL_TLS_CLIENT_CERT_PATH)
    server_ca = read(settings.TEMPORAL_TLS_SERVER_CA_CERT_PATH)
    wanted = (
        settings.TEMPORAL_TLS
        or bool(settings.TEMPORAL_API_KEY)
        or client_cert is not None
        or server_ca is not None
        or bool(settings.TEMPORAL_TLS_SERVER_NAME)
    )
    if not wanted:
        return False
    return TLSConfig(
        client_cert=client_cert,
        client_private_key=read(settings.TEMPORAL_TLS_CLIENT_KEY_PATH),
        server_root_ca_cert=server_ca,
        domain=settings.TEMPORAL_TLS_SERVER_NAME or None,
    )


async def connect(
    *,
    address: str | None = None,
    namespace: str | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """Connect to the configured Temporal service (or the one given).

    `runtime` carries the SDK's telemetry settings (the worker passes one
    that exports Prometheus metrics); the default is the SDK's own. Bad
    TEMPORAL_* settings raise ImproperlyConfigured naming them, also in
    processes that run no system checks (gunicorn, uvicorn).
    """
    require_valid_client_settings()
    return await Client.connect(
        address or settings.TEMPORAL_ADDRESS,
        namespace=namespace or settings.TEMPORAL_NAMESPACE,
        api_key=settings.TEMPORAL_API_KEY or None,
        tls=tls_config(),
        runtime=runtime,
    )
