"""Tracing with OpenTelemetry, configured by its standard OTEL_* variables.

Off unless asked for: with no OTEL_TRACES_EXPORTER (or "none") and no OTLP
endpoint, `configure_tracing()` imports nothing of OpenTelemetry, installs no
tracer provider, and Temporal clients get no interceptor. On, a process
traces its Django requests (opentelemetry-instrumentation-django) and its
Temporal calls (temporalio.contrib.opentelemetry's TracingInterceptor, on the
client, so the worker that uses it traces its workflows and activities too):
a request, the start of a workflow it asks for, the workflow's run and each
of its activities share one trace. Workflows that no traced client
started (a schedule's, say) get a trace of their own on the worker.

The web process (config/wsgi.py, config/asgi.py, and so `manage.py
runserver`) and the worker (`run_temporal_worker`) call `configure_tracing`
once, at startup. The variables it reads, all standard:

- OTEL_TRACES_EXPORTER: `otlp`, `console` (spans printed on stdout), both
  (comma-separated) or `none`. Unset with an OTLP endpoint set: `otlp`.
- OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
  OTEL_EXPORTER_OTLP_HEADERS, ..._TIMEOUT, ..._COMPRESSION, ..._CERTIFICATE.
- OTEL_EXPORTER_OTLP_PROTOCOL (or ..._TRACES_PROTOCOL): `http/protobuf`,
  the default, whose exporter this project installs; `grpc` once
  opentelemetry-exporter-otlp-proto-grpc is installed too.
- OTEL_SERVICE_NAME (default "<project>-web" or "<project>-worker"),
  OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*,
  OTEL_SDK_DISABLED.

A value it cannot use stops the process at startup, naming the variable
(and `manage.py check` reports it: django_temporal_bridge.E130).
"""

import importlib.util
import os
import threading

from django.core.exceptions import ImproperlyConfigured

EXPORTERS = ("otlp", "console")
PROTOCOLS = ("http/protobuf", "grpc")
GRPC_EXPORTER_PACKAGE = "opentelemetry-exporter-otlp-proto-grpc"

# How long a process that ends may wait for its last spans to be exported:
# an unreachable collector must not hold up a worker's exit after SIGTERM.
FLUSH_TIMEOUT_SECONDS = 5.0

# This process's tracer provider, once configure_tracing() made one.
_provider = None


def _variable(*names: str) -> tuple[str, str]:
    """The first of the variables that is set and not empty, and its value."""
    for name in names:
        if value := os.environ.get(name, "").strip():
            return name, value
    return names[-1], ""


def traces_exporters() -> list[str]:
    """The exporters the environment asks for; [] when tracing is off.

    Raise ImproperlyConfigured naming the variable that has a value this
    project cannot use.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    _, value = _variable("OTEL_TRACES_EXPORTER")
    _, endpoint = _variable(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not value:
        # The standard default is otlp; here, only once an endpoint says where.
        names = ["otlp"] if endpoint else []
    else:
        names = [name.strip() for name in value.lower().split(",") if name.strip()]
    unknown = [name for name in names if name not in (*EXPORTERS, "none")]
    if unknown:
        raise ImproperlyConfigured(
            f"OTEL_TRACES_EXPORTER is {value!r}: {', '.join(map(repr, unknown))} "
            f"is not an exporter this project has; use otlp, console, both "
            "(comma-separated) or none."
        )
    names = [name for name in names if name != "none"]
    if "otlp" in names:
        otlp_protocol()  # checked at startup, not at the first export
    return names


def otlp_protocol() -> str:
    """The OTLP protocol the environment asks for (default http/protobuf)."""
    name, value = _variable(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    protocol = value or "http/protobuf"
    if protocol not in PROTOCOLS:
        raise ImproperlyConfigured(
            f"{name} is {value!r}; use http/protobuf (the default) or grpc."
        )
    if protocol == "grpc" and not importlib.util.find_spec(
        "opentelemetry.exporter.otlp.proto.grpc"
    ):
        raise ImproperlyConfigured(
            f"{name} is 'grpc', but {GRPC_EXPORTER_PACKAGE} is not installed: "
            "add it to the project's dependencies, or use http/protobuf."
        )
    return protocol


def _exporter(name: str):
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if otlp_protocol() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter,
        )
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
    # Endpoint, headers, timeout, compression and certificates: from OTEL_*.
    return OTLPSpanExporter()


def configure_tracing(service_name: str):
    """Trace this process when the OTEL_* variables ask for it: install a
    tracer provider and instrument Django. Return the provider, or None when
    tracing is off. The service is `service_name` ("<project>-web", say) unless
    OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) does.

    Call it once per process, before Django loads its middleware (the WSGI
    or ASGI application) and before Temporal clients connect.
    """
    global _provider
    if _provider is not None:
        return _provider
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 (loads the settings, and so .env)
    exporters = traces_exporters()
    if not exporters:
        return None

    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create() reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME)).startswith("unknown_service"):
        default = Resource({SERVICE_NAME: service_name})
        resource = resource.merge(default)
    provider = TracerProvider(resource=resource)  # OTEL_TRACES_SAMPLER
    for name in exporters:
        # Exported off the request's thread (OTEL_BSP_* tune it).
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def temporal_interceptors() -> list:
    """The interceptors Temporal clients get: [] while tracing is off.

    On the client, so that a worker using the client gets them too. Workflow
    spans are made for workflows no traced client started (schedules', the
    CLI's) too: they start a trace of their own.
    """
    if _provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [
        TracingInterceptor(
            _provider.get_tracer("temporalio"), always_create_workflow_spans=True
        )
    ]


def flush_tracing() -> None:
    """Export the spans still buffered, for FLUSH_TIMEOUT_SECONDS at most (a
    process that ends with os._exit skips the provider's own exit handler).

    The SDK's force_flush() exports on the calling thread and waits for the
    exporter's own timeout (OTEL_EXPORTER_OTLP_TIMEOUT), whatever timeout it
    is given: so it runs on a daemon thread, which the exit leaves behind.
    """
    if _provider is not None:
        flushing = threading.Thread(
            target=_provider.force_flush, name="flush-spans", daemon=True
        )
        flushing.start()
        flushing.join(FLUSH_TIMEOUT_SECONDS)
