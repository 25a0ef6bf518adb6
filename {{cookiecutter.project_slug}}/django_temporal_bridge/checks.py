"""System checks of the Temporal configuration: the TEMPORAL_* variables
that clients read (see config.py), the worker's settings and the declared
schedules.

Django runs them before `runserver`, `migrate`, `run_temporal_worker` and
every other management command (and `manage.py check --deploy` in CI), so a
bad value stops the process at startup with the variable's name, not later
with an RPC error. Processes that run no system checks (gunicorn, uvicorn, a
script) get the same errors from `client.connect()`, through
`require_valid_client_settings()`.
"""

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import setting
from .config import client_profile, temporal_environment
from .encryption import payload_keys

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

# What Temporal's configuration loader reads as a boolean; it takes any
# other value of TEMPORAL_TLS ("yes", "off") as "TLS on".
BOOLEANS = {"true", "false", "1", "0"}

# Settings that must not be empty, and those that must be positive, with the
# number of their check id (django_temporal_bridge.E0xx).
REQUIRED = {"TEMPORAL_TASK_QUEUE": 3}
POSITIVE = {
    "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES": 6,
    "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS": 7,
    "TEMPORAL_CONNECT_TIMEOUT_SECONDS": 8,
    "TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": 9,
    "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS": 13,
    "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS": 14,
    "TEMPORAL_CLIENT_START_TIMEOUT_SECONDS": 21,
    "TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS": 20,
    "TEMPORAL_ADMIN_TIMEOUT_SECONDS": 19,
}


def _id(number: int) -> str:
    return f"django_temporal_bridge.E{number:03d}"


def _error(setting: str, problem: str, hint: str, number: int) -> Error:
    return Error(f"{setting} {problem}", hint=hint, id=_id(number))


def _address_problem(address: str | None) -> str | None:
    host, _, port = (address or "").rpartition(":")
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


def _environment_errors(environment: dict[str, str]) -> list[CheckMessage]:
    """Problems the configuration loader would not name, or not see."""
    errors: list[CheckMessage] = []
    tls = environment.get("TEMPORAL_TLS")
    if tls is not None and tls.lower() not in BOOLEANS:
        errors.append(_error("TEMPORAL_TLS", f"is {tls!r}", "Use true or false.", 17))
    config_file = environment.get("TEMPORAL_CONFIG_FILE")
    if config_file and not Path(config_file).is_file():
        errors.append(
            _error(
                "TEMPORAL_CONFIG_FILE",
                f"is {config_file!r}, which is not a file",
                "Fix the path, or unset it for ~/.config/temporalio/temporal.toml.",
                16,
            )
        )
    for name in PEM_MARKERS:
        path = environment.get(name)
        if path and (found := _tls_file_problem(name, path)):
            problem, number = found
            errors.append(_error(name, problem, "Fix the path.", number))
    return errors


def _payload_key_errors() -> list[CheckMessage]:
    """A malformed TEMPORAL_PAYLOAD_KEYS, or a TEMPORAL_PAYLOAD_KEY_ID that
    names none of its keys: clients would not encrypt, or not decrypt."""
    try:
        payload_keys()
    except ImproperlyConfigured as error:
        if str(error).startswith("TEMPORAL_PAYLOAD_KEY_ID"):
            hint = "Set it to one of the key ids, or leave it empty for the first."
            number = 141
        else:
            hint = "Generate a key with `python manage.py generate_payload_key`."
            number = 140
        return [Error(str(error), hint=hint, id=f"django_temporal_bridge.E{number}")]
    plaintext = setting("TEMPORAL_PAYLOAD_PLAINTEXT")
    if plaintext.strip().lower() not in ("reject", "allow"):
        return [
            _error(
                "TEMPORAL_PAYLOAD_PLAINTEXT",
                f"is {plaintext!r}",
                "Set it to reject (the default) or allow.",
                142,
            )
        ]
    return []


def client_errors() -> list[CheckMessage]:
    """Problems with what every client needs: where to connect, how, and
    with which payload keys."""
    errors: list[CheckMessage] = [
        _error(name, "is empty", "Set it in the environment or .env.", number)
        for name, number in REQUIRED.items()
        if not str(getattr(settings, name, "")).strip()
    ]
    errors += _payload_key_errors()
    if environment_errors := _environment_errors(temporal_environment()):
        return errors + environment_errors  # the profile would not load
    try:
        profile = client_profile()
    except ImproperlyConfigured as error:
        hint = "Fix the file, or TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE."
        return [*errors, Error(str(error), hint=hint, id="django_temporal_bridge.E018")]
    if problem := _address_problem(profile.address):
        errors.append(
            _error(
                "TEMPORAL_ADDRESS",
                problem,
                "Set it to your Temporal service's frontend, e.g. localhost:7233.",
                1,
            )
        )
    tls = profile.tls
    if profile.api_key and tls and tls.disabled:
        errors.append(
            Warning(
                "TEMPORAL_TLS is false although TEMPORAL_API_KEY is set: the API "
                "key travels unencrypted, and Temporal Cloud refuses it",
                hint="Leave TEMPORAL_TLS empty (or true) with an API key.",
                id="django_temporal_bridge.W001",
            )
        )
    if tls and (tls.client_cert is None) != (tls.client_private_key is None):
        errors.append(
            _error(
                "TEMPORAL_TLS_CLIENT_CERT_PATH",
                "and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together",
                "Mutual TLS needs both the client certificate and its key.",
                5,
            )
        )
    return errors


def worker_errors() -> list[CheckMessage]:
    """Problems with the worker's own settings."""
    errors: list[CheckMessage] = []
    for name, number in POSITIVE.items():
        try:
            value = setting(name)
        except ImproperlyConfigured as error:  # not a number in the environment
            errors.append(Error(str(error), hint="Fix the value.", id=_id(number)))
            continue
        if value <= 0:
            errors.append(_error(name, "must be positive", "Fix the value.", number))
    metrics = setting("TEMPORAL_METRICS_BIND_ADDRESS")
    if metrics and (problem := _address_problem(metrics)):
        errors.append(
            _error(
                "TEMPORAL_METRICS_BIND_ADDRESS",
                problem,
                "Use e.g. 0.0.0.0:9000, or leave it empty for no metrics.",
                10,
            )
        )
    health = setting("TEMPORAL_WORKER_HEALTH_BIND_ADDRESS")
    if health and (problem := _address_problem(health)):
        errors.append(
            _error(
                "TEMPORAL_WORKER_HEALTH_BIND_ADDRESS",
                problem,
                "Use e.g. 0.0.0.0:8081, or leave it empty for no health checks.",
                120,
            )
        )
    if health and health == metrics:
        errors.append(
            _error(
                "TEMPORAL_WORKER_HEALTH_BIND_ADDRESS",
                "is the same as TEMPORAL_METRICS_BIND_ADDRESS",
                "Give the health checks and the metrics a port each.",
                121,
            )
        )
    deployment = setting("TEMPORAL_WORKER_DEPLOYMENT_NAME")
    build_id = setting("TEMPORAL_WORKER_BUILD_ID")
    # The deployment name turns versioning on; a build id alone is allowed
    # (Kubernetes sets it from the image tag whether versioning is on or not).
    if deployment and not build_id:
        errors.append(
            _error(
                "TEMPORAL_WORKER_BUILD_ID",
                "is empty, but TEMPORAL_WORKER_DEPLOYMENT_NAME is set",
                f"A worker of deployment {deployment!r} needs the id of its build "
                "(the image tag, say); empty both to run unversioned.",
                122,
            )
        )
    if "." in deployment:
        errors.append(
            _error(
                "TEMPORAL_WORKER_DEPLOYMENT_NAME",
                f"is {deployment!r}; it must not contain a dot",
                "Temporal writes a version as <deployment name>.<build id>.",
                123,
            )
        )
    return errors


@register("temporal")
def check_temporal_settings(app_configs, **kwargs) -> list[CheckMessage]:
    return client_errors() + worker_errors()


@register("temporal")
def check_declared_schedules(app_configs, **kwargs) -> list[CheckMessage]:
    """A declaration that cannot become a schedule (a bad cron, say) stops
    `manage.py check` in CI, not the deploy's sync."""
    from .schedules import InvalidScheduleError, declared_schedules

    try:
        declared_schedules()
    except InvalidScheduleError as error:
        hint = "Fix the declaration in its app's schedules.py."
        return [Error(str(error), hint=hint, id="django_temporal_bridge.E025")]
    return []


@register("temporal")
def check_tracing_settings(app_configs, **kwargs) -> list[CheckMessage]:
    """OTEL_* values that tracing cannot use (django_temporal_bridge.tracing), which stop
    the web process and the worker at startup too."""
    from .tracing import traces_exporters

    try:
        traces_exporters()
    except ImproperlyConfigured as error:
        hint = (
            "See django_temporal_bridge/tracing.py for the OTEL_* variables it reads."
        )
        return [Error(str(error), hint=hint, id="django_temporal_bridge.E130")]
    return []


def require_valid_client_settings() -> None:
    """Raise ImproperlyConfigured naming every bad client variable or setting."""
    if errors := [error for error in client_errors() if error.is_serious()]:
        raise ImproperlyConfigured(
            "; ".join(f"{error.msg} ({error.hint})" for error in errors)
        )
