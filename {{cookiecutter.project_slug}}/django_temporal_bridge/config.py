"""Where clients connect, and how the worker runs.

Connections use Temporal's own environment configuration
(`temporalio.envconfig`), which the Temporal CLI and every SDK read too:
TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
TEMPORAL_TLS_*, TEMPORAL_GRPC_META_*, over a profile (TEMPORAL_PROFILE,
default "default") of a temporal.toml file (TEMPORAL_CONFIG_FILE, default
~/.config/temporalio/temporal.toml). So `temporal workflow list` in the same
shell talks to the same cluster as the project. Unset, the address is
localhost:7233 and the namespace "default", as for the CLI; an empty
variable counts as unset (the optional lines of a .env file).

The worker's own options are Django settings (TEMPORAL_TASK_QUEUE,
TEMPORAL_WORKER_*, TEMPORAL_CONNECT_TIMEOUT_SECONDS and
TEMPORAL_METRICS_BIND_ADDRESS), read once into a `WorkerSettings`.
"""

import dataclasses
import os
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from temporalio.envconfig import ClientConfigProfile

from .conf import setting

DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"


def temporal_environment() -> dict[str, str]:
    """The TEMPORAL_* variables of this process that are set and not empty."""
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith("TEMPORAL_") and value
    }


def client_profile() -> ClientConfigProfile:
    """Return the connection profile, address and namespace filled in.

    Raise ImproperlyConfigured naming the variable when it cannot be loaded.
    Loading costs microseconds, so callers load it when they need it and
    see changes to the environment (tests make them).
    """
    environment = temporal_environment()
    try:
        profile = ClientConfigProfile.load(override_env_vars=environment)
    except Exception as error:  # the SDK's ConfigError, or an unreadable file
        source = environment.get("TEMPORAL_CONFIG_FILE", "temporal.toml")
        name = environment.get("TEMPORAL_PROFILE", "default")
        raise ImproperlyConfigured(
            f"Temporal's client configuration (profile {name!r} of {source}, "
            f"TEMPORAL_* variables) cannot be loaded: {error}"
        ) from error
    return dataclasses.replace(
        profile,
        address=profile.address or DEFAULT_ADDRESS,
        namespace=profile.namespace or DEFAULT_NAMESPACE,
    )


def workflow_url(workflow_id: str) -> str:
    """Where the Temporal Web UI (TEMPORAL_UI_URL) shows a workflow. The
    namespace and the id are percent-encoded: an id is any text (a "/" or a
    "?" in one must not lead the link elsewhere)."""
    return (
        f"{setting('TEMPORAL_UI_URL').rstrip('/')}/namespaces/"
        f"{quote(client_profile().namespace or DEFAULT_NAMESPACE, safe='')}/workflows/"
        f"{quote(workflow_id, safe='')}"
    )


@dataclass(frozen=True)
class WorkerSettings:
    """What `run_temporal_worker` runs with (the system checks validate the
    settings it is read from)."""

    task_queue: str
    max_concurrent_activities: int
    max_concurrent_workflow_tasks: int
    graceful_shutdown: timedelta
    sticky_queue_timeout: timedelta
    connect_timeout_seconds: float
    metrics_bind_address: str
    health_bind_address: str = ""
    # Worker versioning: both set, or both empty (unversioned).
    deployment_name: str = ""
    build_id: str = ""

    @classmethod
    def from_settings(cls, **overrides) -> "WorkerSettings":
        values = {
            "task_queue": settings.TEMPORAL_TASK_QUEUE,
            "max_concurrent_activities": (
                setting("TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES")
            ),
            "max_concurrent_workflow_tasks": (
                setting("TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS")
            ),
            "graceful_shutdown": timedelta(
                seconds=setting("TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS")
            ),
            "sticky_queue_timeout": timedelta(
                seconds=setting("TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS")
            ),
            "connect_timeout_seconds": setting("TEMPORAL_CONNECT_TIMEOUT_SECONDS"),
            "metrics_bind_address": setting("TEMPORAL_METRICS_BIND_ADDRESS"),
            "health_bind_address": setting("TEMPORAL_WORKER_HEALTH_BIND_ADDRESS"),
            "deployment_name": setting("TEMPORAL_WORKER_DEPLOYMENT_NAME"),
            "build_id": setting("TEMPORAL_WORKER_BUILD_ID"),
        }
        return cls(**(values | overrides))
