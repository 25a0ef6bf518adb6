"""The package's settings and their defaults, in one place.

A project changes one in its Django settings, or a deployment in an
environment variable of the same name (the Django setting wins); `.env` is
read into the environment by the project's settings. Each is documented in
the docs' settings table; the system checks (checks.py) name a bad one.
"""

import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    # Django's shared client (client.py): the budget of a start in a request
    # path, and of any other call (a few round trips at 250 ms, TLS included),
    # each connecting included; and of one connection attempt.
    "TEMPORAL_CLIENT_START_TIMEOUT_SECONDS": 0.8,
    "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS": 2.0,
    "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS": 5.0,
    # The worker (config.WorkerSettings).
    "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES": 20,
    "TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": 100,
    "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS": 30.0,
    "TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS": 10.0,
    "TEMPORAL_CONNECT_TIMEOUT_SECONDS": 30.0,
    "TEMPORAL_METRICS_BIND_ADDRESS": "",
    "TEMPORAL_WORKER_HEALTH_BIND_ADDRESS": "",
    # Worker versioning (versioning.py): both set, or both empty.
    "TEMPORAL_WORKER_DEPLOYMENT_NAME": "",
    "TEMPORAL_WORKER_BUILD_ID": "",
    # Payload encryption (encryption.py): secret keys, and the current one.
    "TEMPORAL_PAYLOAD_KEYS": "",
    "TEMPORAL_PAYLOAD_KEY_ID": "",
    # With keys set: "reject" payloads that are not encrypted, or "allow" them.
    "TEMPORAL_PAYLOAD_PLAINTEXT": "reject",
    # Seconds an admin page (visibility.py) waits for Temporal in all.
    "TEMPORAL_ADMIN_TIMEOUT_SECONDS": 2.0,
    # The Temporal Web UI: links, and the codec endpoint's allowed origin.
    "TEMPORAL_UI_URL": "http://localhost:8080",
}


def setting(name: str):
    """Return the setting `name`: Django's, else the environment's, else
    the default. Raise ImproperlyConfigured naming it when its environment
    value is not of the default's type."""
    if hasattr(settings, name):
        return getattr(settings, name)
    default = DEFAULTS[name]
    value = os.environ.get(name, "")
    if not value:  # unset, or an empty line of .env
        return default
    try:
        return type(default)(value)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ImproperlyConfigured(f"{name} is {value!r}; expected {kind}") from None
