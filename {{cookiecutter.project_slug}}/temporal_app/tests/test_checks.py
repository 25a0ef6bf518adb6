"""The TEMPORAL_* settings are checked at startup: a bad value stops every
management command (the worker's too) with the setting's name, and clients
refuse to connect with the same message, even where no system checks run."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from config.settings.base import mailer
from temporal_app.checks import check_temporal_settings, require_valid_client_settings
from temporal_app.client import connect


def pem(label: str) -> str:
    """A PEM-shaped stand-in (not a real key or certificate)."""
    return f"-----BEGIN {label}-----\nMIIB\n-----END {label}-----\n"


CERTIFICATE = pem("CERTIFICATE")
# Spelled in pieces so secret scanners (pre-commit's detect-private-key) do
# not take this stand-in for a real key.
PRIVATE_KEY = pem(" ".join(["PRIVATE", "KEY"]))


@pytest.fixture
def pem_files(tmp_path) -> dict[str, str]:
    """Paths for the {cert}, {key} and {missing} placeholders of the cases."""
    (tmp_path / "client.pem").write_text(CERTIFICATE)
    (tmp_path / "client.key").write_text(PRIVATE_KEY)
    return {
        "cert": str(tmp_path / "client.pem"),
        "key": str(tmp_path / "client.key"),
        "missing": str(tmp_path / "missing.pem"),
    }


def test_the_project_settings_pass():
    assert check_temporal_settings(None) == []


def smtp_mailer(**options) -> dict:
    """MAILERS whose default mailer is Django's SMTP backend, with `options`."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "localhost", **options},
        }
    }


def test_the_smtp_mailer_of_the_project_settings_passes(monkeypatch):
    """The test settings swap in the locmem backend; production's is SMTP."""
    monkeypatch.delenv("EMAIL_TIMEOUT", raising=False)
    with override_settings(
        MAILERS={"default": mailer("django.core.mail.backends.smtp.EmailBackend")}
    ):
        assert check_temporal_settings(None) == []


def test_mutual_tls_files_pass(pem_files):
    with override_settings(
        TEMPORAL_TLS_CLIENT_CERT_PATH=pem_files["cert"],
        TEMPORAL_TLS_CLIENT_KEY_PATH=pem_files["key"],
        TEMPORAL_TLS_SERVER_CA_CERT_PATH=pem_files["cert"],
    ):
        assert check_temporal_settings(None) == []


# (settings, the error's id, what its message says)
# fmt: off
BAD_SETTINGS = [
    pytest.param({"TEMPORAL_ADDRESS": "localhost"}, "E001", "TEMPORAL_ADDRESS is 'localhost'; expected host:port", id="address-without-port"),
    pytest.param({"TEMPORAL_ADDRESS": ":7233"}, "E001", "TEMPORAL_ADDRESS is ':7233'", id="address-without-host"),
    pytest.param({"TEMPORAL_ADDRESS": "localhost:grpc"}, "E001", "TEMPORAL_ADDRESS is 'localhost:grpc'", id="address-port-not-a-number"),
    pytest.param({"TEMPORAL_ADDRESS": "localhost:70000"}, "E001", "TEMPORAL_ADDRESS is 'localhost:70000'", id="address-port-out-of-range"),
    pytest.param({"TEMPORAL_NAMESPACE": " "}, "E002", "TEMPORAL_NAMESPACE is empty", id="namespace-empty"),
    pytest.param({"TEMPORAL_TASK_QUEUE": ""}, "E003", "TEMPORAL_TASK_QUEUE is empty", id="task-queue-empty"),
    pytest.param({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{missing}"}, "E004", "TEMPORAL_TLS_SERVER_CA_CERT_PATH is '{missing}', which is not a file", id="ca-missing"),
    pytest.param({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}"}, "E005", "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together", id="cert-without-key"),
    pytest.param({"TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"}, "E005", "must be set together", id="key-without-cert"),
    pytest.param({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{key}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"}, "E011", "TEMPORAL_TLS_CLIENT_CERT_PATH is '{key}', which does not hold a certificate in PEM format", id="key-as-cert"),
    pytest.param({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{cert}"}, "E011", "TEMPORAL_TLS_CLIENT_KEY_PATH is '{cert}', which does not hold a private key in PEM format", id="cert-as-key"),
    pytest.param({"TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES": 0}, "E006", "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES must be positive", id="activities-zero"),
    pytest.param({"TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS": -1}, "E007", "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS must be positive", id="shutdown-negative"),
    pytest.param({"TEMPORAL_CONNECT_TIMEOUT_SECONDS": 0}, "E008", "TEMPORAL_CONNECT_TIMEOUT_SECONDS must be positive", id="connect-timeout-zero"),
    pytest.param({"TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": 0}, "E009", "TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must be positive", id="workflow-tasks-zero"),
    pytest.param({"TEMPORAL_METRICS_BIND_ADDRESS": "9000"}, "E010", "TEMPORAL_METRICS_BIND_ADDRESS is '9000'; expected host:port", id="metrics-without-host"),
    pytest.param({"TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS": 0}, "E013", "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS must be positive", id="client-connect-timeout-zero"),
    pytest.param({"TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS": -0.5}, "E014", "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS must be positive", id="client-rpc-timeout-negative"),
    pytest.param({"TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS": 0}, "E015", "TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS must be positive", id="reconcile-interval-zero"),
    pytest.param({"MAILERS": smtp_mailer()}, "E012", "EMAIL_TIMEOUT (the default mailer's SMTP timeout) is None", id="email-timeout-unset"),
    pytest.param({"MAILERS": smtp_mailer(timeout=0)}, "E012", "EMAIL_TIMEOUT (the default mailer's SMTP timeout) is 0; it must be positive", id="email-timeout-zero"),
    pytest.param({"MAILERS": smtp_mailer(timeout=60.0)}, "E012", "is 60.0; it must be positive and below the email activity's start_to_close_timeout (60 s)", id="email-timeout-not-below-the-activity-timeout"),
]
# fmt: on


@pytest.mark.parametrize(("overrides", "error_id", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_named(pem_files, overrides, error_id, message):
    overrides = {
        name: value.format(**pem_files) if isinstance(value, str) else value
        for name, value in overrides.items()
    }
    with override_settings(**overrides):
        errors = check_temporal_settings(None)

    assert [error.id for error in errors] == [f"temporal_app.{error_id}"]
    assert message.format(**pem_files) in errors[0].msg
    assert errors[0].hint


def test_a_bad_setting_stops_management_commands():
    with (
        override_settings(TEMPORAL_ADDRESS="temporal.example.com"),
        pytest.raises(
            SystemCheckError, match=r"TEMPORAL_ADDRESS is 'temporal\.example"
        ),
    ):
        call_command("check")


def test_the_worker_refuses_to_start_with_a_bad_setting():
    result = subprocess.run(
        [sys.executable, "manage.py", "run_temporal_worker"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEMPORAL_TASK_QUEUE": "",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "temporal_app.E003" in result.stderr
    assert "TEMPORAL_TASK_QUEUE is empty" in result.stderr


async def test_clients_refuse_to_connect_with_a_bad_setting(pem_files):
    with (
        override_settings(TEMPORAL_TLS_CLIENT_CERT_PATH=pem_files["missing"]),
        pytest.raises(ImproperlyConfigured) as refused,
    ):
        await connect()

    assert "TEMPORAL_TLS_CLIENT_CERT_PATH is" in str(refused.value)
    assert "which is not a file" in str(refused.value)
    assert "must be set together" in str(refused.value)


def test_worker_settings_do_not_stop_clients():
    with override_settings(TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES=0):
        require_valid_client_settings()
