"""System checks for the TEMPORAL_* settings.

Django runs them before `runserver`, `migrate`, `run_temporal_worker` and
every other management command (and `manage.py check --deploy` in CI), so a
bad value stops the process at startup with the setting's name, not later
with an RPC error. Processes that run no system checks (gunicorn, uvicorn, a
script) get the same errors from `client.connect()`, through
`require_valid_client_settings()`.
"""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from .workflows import EMAIL_TIMEOUT as EMAIL_ACTIVITY_TIMEOUT

# What each TLS file must hold (PEM), so that a swapped or DER file is named
# at startup instead of failing the TLS handshake.
PEM_MARKERS = {
    "TEMPORAL_TLS_CLIENT_CERT_PATH": ("-----BEGIN CERTIFICATE-----", "a certificate"),
    "TEMPORAL_TLS_CLIENT_KEY_PATH": ("PRIVATE KEY-----", "a private key"),
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH": (
        "-----BEGIN CERTIFICATE-----",
        "a certificate",
    ),
}

# The default of a MAILERS entry's BACKEND; its `timeout` option is checked.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# Settings that must not be empty, and those that must be positive, with the
# number of their check id (temporal_app.E0xx).
REQUIRED = {"TEMPORAL_NAMESPACE": 2, "TEMPORAL_TASK_QUEUE": 3}
POSITIVE = {
    "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES": 6,
    "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS": 7,
    "TEMPORAL_CONNECT_TIMEOUT_SECONDS": 8,
    "TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": 9,
    "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS": 13,
    "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS": 14,
    "TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS": 15,
}


def _error(setting: str, problem: str, hint: str, number: int) -> Error:
    return Error(f"{setting} {problem}", hint=hint, id=f"temporal_app.E{number:03d}")


def _address_problem(address: str) -> str | None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return f"is {address!r}; expected host:port"
    return None


def _tls_file_problem(name: str, path: str) -> tuple[str, int] | None:
    if not Path(path).is_file():
        return f"is {path!r}, which is not a file", 4
    marker, kind = PEM_MARKERS[name]
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError as error:
        return f"is {path!r}, which cannot be read ({error.strerror})", 4
    if marker not in text:
        return f"is {path!r}, which does not hold {kind} in PEM format", 11
    return None


def client_errors() -> list[Error]:
    """Problems with what every client needs: where to connect, and how."""
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
    for name, number in REQUIRED.items():
        if not str(getattr(settings, name)).strip():
            errors.append(
                _error(name, "is empty", "Set it in the environment or .env.", number)
            )
    for name in PEM_MARKERS:
        path = getattr(settings, name)
        if path and (found := _tls_file_problem(name, path)):
            problem, number = found
            errors.append(_error(name, problem, "Fix the path.", number))
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
    return errors


def worker_errors() -> list[Error]:
    """Problems with the worker's own settings."""
    errors = []
    for name, number in POSITIVE.items():
        if getattr(settings, name) <= 0:
            errors.append(_error(name, "must be positive", "Fix the value.", number))
    metrics = settings.TEMPORAL_METRICS_BIND_ADDRESS
    if metrics and (problem := _address_problem(metrics)):
        errors.append(
            _error(
                "TEMPORAL_METRICS_BIND_ADDRESS",
                problem,
                "Use e.g. 0.0.0.0:9000, or leave it empty for no metrics.",
                10,
            )
        )
    return errors


def email_errors() -> list[Error]:
    """Problems with the default mailer: an SMTP server that stops answering
    must fail the send before Temporal times the email activity out."""
    mailer = settings.MAILERS.get("default", {})
    if mailer.get("BACKEND", SMTP_BACKEND) != SMTP_BACKEND:
        return []
    timeout = mailer.get("OPTIONS", {}).get("timeout")
    limit = EMAIL_ACTIVITY_TIMEOUT.total_seconds()
    if timeout is not None and 0 < timeout < limit:
        return []
    return [
        _error(
            "EMAIL_TIMEOUT",
            f"(the default mailer's SMTP timeout) is {timeout!r}; it must be "
            f"positive and below the email activity's start_to_close_timeout "
            f"({limit:g} s)",
            "Set EMAIL_TIMEOUT to a few seconds, e.g. 10.",
            12,
        )
    ]


@register("temporal")
def check_temporal_settings(app_configs, **kwargs) -> list[Error]:
    return client_errors() + worker_errors() + email_errors()


def require_valid_client_settings() -> None:
    """Raise ImproperlyConfigured naming every bad client setting."""
    if errors := client_errors():
        raise ImproperlyConfigured(
            "; ".join(f"{error.msg} ({error.hint})" for error in errors)
        )
