"""The Temporal configuration is checked at startup: a bad value stops every
management command (the worker's too) with the variable's name, and clients
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

from django_temporal_bridge.checks import (
    check_temporal_settings,
    require_valid_client_settings,
)
from django_temporal_bridge.client import connect
from django_temporal_bridge.config import WorkerSettings
from django_temporal_bridge.worker import deployment_config


@pytest.fixture
def environment(monkeypatch, pem_files):
    """Set TEMPORAL_* variables, with {cert}, {key} and {missing} filled in."""

    def set_variables(variables: dict[str, str]) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value.format(**pem_files))

    return set_variables


def test_the_project_settings_pass():
    assert check_temporal_settings(None) == []


def test_a_build_id_alone_passes_and_leaves_the_worker_unversioned():
    """Kubernetes sets the build id from the image tag; the deployment name
    turns versioning on."""
    with override_settings(TEMPORAL_WORKER_BUILD_ID="v1"):
        assert check_temporal_settings(None) == []
        assert deployment_config(WorkerSettings.from_settings()) is None


def test_mutual_tls_files_pass(environment):
    environment(
        {
            "TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}",
            "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{cert}",
        }
    )

    assert check_temporal_settings(None) == []


def test_a_profile_of_a_temporal_toml_file_passes(environment, tmp_path):
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.cloud]\naddress = "example.tmprl.cloud:7233"\n')
    environment({"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "cloud"})

    assert check_temporal_settings(None) == []


# (variables, the error's id, what its message says)
# fmt: off
BAD_VARIABLES = [
    pytest.param({"TEMPORAL_ADDRESS": "localhost"}, "E001", "TEMPORAL_ADDRESS is 'localhost'; expected host:port", id="address-without-port"),
    pytest.param({"TEMPORAL_ADDRESS": ":7233"}, "E001", "TEMPORAL_ADDRESS is ':7233'", id="address-without-host"),
    pytest.param({"TEMPORAL_ADDRESS": "localhost:grpc"}, "E001", "TEMPORAL_ADDRESS is 'localhost:grpc'", id="address-port-not-a-number"),
    pytest.param({"TEMPORAL_ADDRESS": "localhost:70000"}, "E001", "TEMPORAL_ADDRESS is 'localhost:70000'", id="address-port-out-of-range"),
    pytest.param({"TEMPORAL_TLS": "yes"}, "E017", "TEMPORAL_TLS is 'yes'", id="tls-not-a-boolean-the-loader-reads"),
    pytest.param({"TEMPORAL_CONFIG_FILE": "{missing}"}, "E016", "TEMPORAL_CONFIG_FILE is '{missing}', which is not a file", id="config-file-missing"),
    pytest.param({"TEMPORAL_PROFILE": "nowhere"}, "E018", "profile 'nowhere'", id="profile-missing"),
    pytest.param({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "{missing}"}, "E004", "TEMPORAL_TLS_SERVER_CA_CERT_PATH is '{missing}', which is not a file", id="ca-missing"),
    pytest.param({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}"}, "E005", "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together", id="cert-without-key"),
    pytest.param({"TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"}, "E005", "must be set together", id="key-without-cert"),
    pytest.param({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{key}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{key}"}, "E011", "TEMPORAL_TLS_CLIENT_CERT_PATH is '{key}', which does not hold a certificate in PEM format", id="key-as-cert"),
    pytest.param({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{cert}", "TEMPORAL_TLS_CLIENT_KEY_PATH": "{cert}"}, "E011", "TEMPORAL_TLS_CLIENT_KEY_PATH is '{cert}', which does not hold a private key in PEM format", id="cert-as-key"),
    pytest.param({"TEMPORAL_API_KEY": "key", "TEMPORAL_TLS": "false"}, "W001", "TEMPORAL_TLS is false although TEMPORAL_API_KEY is set", id="api-key-without-tls"),
]
# (settings, the error's id, what its message says)
BAD_SETTINGS = [
    pytest.param({"TEMPORAL_TASK_QUEUE": ""}, "E003", "TEMPORAL_TASK_QUEUE is empty", id="task-queue-empty"),
    pytest.param({"TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES": 0}, "E006", "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES must be positive", id="activities-zero"),
    pytest.param({"TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS": -1}, "E007", "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS must be positive", id="shutdown-negative"),
    pytest.param({"TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS": 0}, "E020", "TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS must be positive", id="sticky-queue-zero"),
    pytest.param({"TEMPORAL_CONNECT_TIMEOUT_SECONDS": 0}, "E008", "TEMPORAL_CONNECT_TIMEOUT_SECONDS must be positive", id="connect-timeout-zero"),
    pytest.param({"TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": 0}, "E009", "TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS must be positive", id="workflow-tasks-zero"),
    pytest.param({"TEMPORAL_METRICS_BIND_ADDRESS": "9000"}, "E010", "TEMPORAL_METRICS_BIND_ADDRESS is '9000'; expected host:port", id="metrics-without-host"),
    pytest.param({"TEMPORAL_WORKER_HEALTH_BIND_ADDRESS": "8081"}, "E120", "TEMPORAL_WORKER_HEALTH_BIND_ADDRESS is '8081'; expected host:port", id="health-without-host"),
    pytest.param({"TEMPORAL_WORKER_HEALTH_BIND_ADDRESS": "0.0.0.0:9000", "TEMPORAL_METRICS_BIND_ADDRESS": "0.0.0.0:9000"}, "E121", "TEMPORAL_WORKER_HEALTH_BIND_ADDRESS is the same as TEMPORAL_METRICS_BIND_ADDRESS", id="health-on-metrics-port"),
    pytest.param({"TEMPORAL_WORKER_DEPLOYMENT_NAME": "my-project"}, "E122", "TEMPORAL_WORKER_BUILD_ID is empty, but TEMPORAL_WORKER_DEPLOYMENT_NAME is set", id="deployment-without-build-id"),
    pytest.param({"TEMPORAL_WORKER_DEPLOYMENT_NAME": "my.project", "TEMPORAL_WORKER_BUILD_ID": "v1"}, "E123", "TEMPORAL_WORKER_DEPLOYMENT_NAME is 'my.project'; it must not contain a dot", id="deployment-with-dot"),
    pytest.param({"TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS": 0}, "E013", "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS must be positive", id="client-connect-timeout-zero"),
    pytest.param({"TEMPORAL_ADMIN_TIMEOUT_SECONDS": 0}, "E019", "TEMPORAL_ADMIN_TIMEOUT_SECONDS must be positive", id="admin-timeout-zero"),
    pytest.param({"TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS": -0.5}, "E014", "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS must be positive", id="client-rpc-timeout-negative"),
]
# fmt: on


def assert_one_problem(pem_files, error_id: str, message: str) -> None:
    problems = check_temporal_settings(None)

    assert [problem.id for problem in problems] == [
        f"django_temporal_bridge.{error_id}"
    ]
    assert message.format(**pem_files) in problems[0].msg
    assert problems[0].hint


@pytest.mark.parametrize(("variables", "error_id", "message"), BAD_VARIABLES)
def test_a_bad_variable_is_named(environment, pem_files, variables, error_id, message):
    environment(variables)

    assert_one_problem(pem_files, error_id, message)


@pytest.mark.parametrize(("overrides", "error_id", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_named(pem_files, overrides, error_id, message):
    with override_settings(**overrides):
        assert_one_problem(pem_files, error_id, message)


# Package settings not in Django's settings come from the environment.
# fmt: off
FROM_THE_ENVIRONMENT = [
    pytest.param("TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES", "many", "E006", "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES is 'many'; expected a whole number", id="activities-not-a-number"),
    pytest.param("TEMPORAL_CONNECT_TIMEOUT_SECONDS", "30s", "E008", "TEMPORAL_CONNECT_TIMEOUT_SECONDS is '30s'; expected a number", id="connect-timeout-with-unit"),
    pytest.param("TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS", "0", "E007", "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS must be positive", id="shutdown-zero"),
]
# fmt: on


@pytest.mark.parametrize(("name", "value", "error_id", "message"), FROM_THE_ENVIRONMENT)
def test_a_bad_setting_from_the_environment_is_named(
    monkeypatch, pem_files, name, value, error_id, message
):
    assert not hasattr(settings, name)  # else Django's setting would win
    monkeypatch.setenv(name, value)

    assert_one_problem(pem_files, error_id, message)


def test_a_setting_from_the_environment_is_read_as_its_defaults_type(monkeypatch):
    monkeypatch.setenv("TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES", "7")
    monkeypatch.setenv("TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS", "2.5")

    worker = WorkerSettings.from_settings()

    assert worker.max_concurrent_activities == 7
    assert worker.graceful_shutdown.total_seconds() == 2.5


def test_an_empty_variable_counts_as_unset(environment):
    """As the optional lines of a .env file are: an empty TEMPORAL_TLS must
    not turn TLS on (the loader would), nor an empty API key."""
    environment({"TEMPORAL_TLS": "", "TEMPORAL_API_KEY": "", "TEMPORAL_ADDRESS": ""})

    assert check_temporal_settings(None) == []


# The model checks ask SQLite whether it supports JSONField (the outbox of
# django_temporal_bridge.tasks has one).
@pytest.mark.django_db
def test_a_bad_variable_stops_management_commands(environment):
    environment({"TEMPORAL_ADDRESS": "temporal.example.com"})

    with pytest.raises(
        SystemCheckError, match=r"TEMPORAL_ADDRESS is 'temporal\.example"
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
    assert "django_temporal_bridge.E003" in result.stderr
    assert "TEMPORAL_TASK_QUEUE is empty" in result.stderr


async def test_clients_refuse_to_connect_with_a_bad_variable(environment):
    environment({"TEMPORAL_TLS_CLIENT_CERT_PATH": "{missing}"})

    with pytest.raises(ImproperlyConfigured) as refused:
        await connect()

    assert "TEMPORAL_TLS_CLIENT_CERT_PATH is" in str(refused.value)
    assert "which is not a file" in str(refused.value)


def test_warnings_and_worker_settings_do_not_stop_clients(environment):
    environment({"TEMPORAL_API_KEY": "key", "TEMPORAL_TLS": "false"})

    with override_settings(TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES=0):
        require_valid_client_settings()
