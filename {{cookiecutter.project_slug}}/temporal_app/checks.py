"""System checks for the TEMPORAL_* settings.

Django runs them before `runserver`, `migrate`, `run_temporal_worker` and
every other management command (and `manage.py check --deploy` in CI), so a
bad value stops the process at startup with the setting's name, not later
with an RPC error.
"""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


def _error(setting: str, problem: str, hint: str, number: int) -> Error:
    return Error(f"{setting} {problem}", hint=hint, id=f"temporal_app.E{number:03d}")


def _address_problem(address: str) -> str | None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return f"is {address!r}; expected host:port"
    return None


@register("temporal")
def check_temporal_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    if problem := _address_problem(settings.TEMPORAL_ADDRESS):
        errors.append(
            _error(
                "TEMPORAL_ADDRESS",
                problem,
                "Set it to your Temporal service's frontend, e.g. localhost:7233.",
                1,
            )
        )
    for number, name in enumerate(("TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE"), 2):
        if not str(getattr(settings, name)).strip():
            errors.append(
                _error(name, "is empty", "Set it in the environment or .env.", number)
            )
    for name in (
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    ):
        path = getattr(settings, name)
        if path and not Path(path).is_file():
            errors.append(
                _error(name, f"is {path!r}, which is not a file", "Fix the path.", 4)
            )
    if bool(settings.TEMPORAL_TLS_CLIENT_CERT_PATH) != bool(
        settings.TEMPORAL_TLS_CLIENT_KEY_PATH
    ):
        errors.append(
            _error(
                "TEMPORAL_TLS_CLIENT_CERT_PATH",
                "and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together",
                "Mutual TLS needs both the client certificate and its key.",
                5,
            )
        )
    for number, name in enumerate(
        (
            "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES",
            "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS",
            "TEMPORAL_CONNECT_TIMEOUT_SECONDS",
        ),
        6,
    ):
        if getattr(settings, name) <= 0:
            errors.append(_error(name, "must be positive", "Fix the value.", number))
    return errors
