"""What production throws at a worker, done for real: a worker killed while
a workflow waits, a Temporal server restarted, a worker stopped in the middle
of an activity, database connections cut under the worker (PostgreSQL). They run real
worker processes on the test database, against the session's `temporal server
start-dev`, or against one of their own (its state in a file) where the
server itself restarts."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from django_temporal_bridge.client import connect_when_ready
from django_temporal_bridge.testing import DevServer, Worker, database_url
from temporal_app.search_attributes import SEARCH_ATTRIBUTES
from temporal_app.workflows import OnboardingWorkflowInput, UserOnboardingWorkflow

pytestmark = [
    pytest.mark.integration,
    pytest.mark.resilience,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def server(dev_server, monkeypatch) -> SimpleNamespace:
    """The session's dev server, where the project's clients connect (each
    test's workflows are on a task queue of its own)."""
    client = dev_server.client
    server = SimpleNamespace(
        address=client.service_client.config.target_host,
        namespace=client.namespace,
    )
    monkeypatch.setenv("TEMPORAL_ADDRESS", server.address)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", server.namespace)
    return server


@pytest.fixture
def own_server(tmp_path, monkeypatch):
    """A dev server of the test's own, which it may stop and start again."""
    server = DevServer(tmp_path, "default", SEARCH_ATTRIBUTES)
    monkeypatch.setenv("TEMPORAL_ADDRESS", server.address)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", server.namespace)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def task_queue() -> str:
    return f"resilience-{uuid.uuid4()}"


async def connect(server: DevServer | SimpleNamespace) -> Client:
    """A client of `server` (the fixture points the project at it). A dev
    server that has just opened its port may not serve yet: retry."""
    return await connect_when_ready(30)


def worker(
    tmp_path, server: DevServer | SimpleNamespace, task_queue: str, **options
) -> Worker:
    return Worker(
        tmp_path,
        address=server.address,
        namespace=server.namespace,
        task_queue=task_queue,
        **options,
    )


async def start_onboarding(
    client: Client, user, task_queue: str, delay: int
) -> WorkflowHandle:
    return await client.start_workflow(
        UserOnboardingWorkflow.run,
        OnboardingWorkflowInput(
            user_id=user.pk,
            email=user.email,
            name=user.mail_name,
            follow_up_delay_seconds=delay,
        ),
        id=f"onboarding-{user.pk}-{task_queue}",
        task_queue=task_queue,
        execution_timeout=timedelta(minutes=2),
    )


async def wait_for_status(handle: WorkflowHandle, status: str) -> None:
    async with asyncio.timeout(30):
        while await handle.query(UserOnboardingWorkflow.status) != status:
            await asyncio.sleep(0.1)


async def test_a_killed_worker_is_replaced_and_the_workflow_completes(
    server, user, task_queue, tmp_path
):
    client = await connect(server)
    # The workflow's next task waits on the dead worker's own queue until
    # Temporal gives that queue up: after 1 s here (10 s by default).
    sticky = {"TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS": "1"}
    with worker(tmp_path, server, task_queue, **sticky) as first:
        handle = await start_onboarding(client, user, task_queue, delay=3)
        await wait_for_status(handle, "waiting to follow up")
        first.stop(signal.SIGKILL)

    with worker(tmp_path, server, task_queue) as second:
        result = await handle.result()

    assert result["emails_sent"] == 2
    assert len(second.emails()) == 2  # one from each worker, no duplicate


async def test_running_workflows_resume_after_a_server_restart(
    own_server, user, task_queue, tmp_path
):
    server = own_server
    client = await connect(server)
    with worker(tmp_path, server, task_queue) as running:
        handle = await start_onboarding(client, user, task_queue, delay=5)
        await wait_for_status(handle, "waiting to follow up")
        server.stop()
        server.start()

        client = await connect(server)
        result = await client.get_workflow_handle(handle.id).result()

    assert result["emails_sent"] == 2
    assert len(running.emails()) == 2


async def test_sigterm_lets_the_running_activity_finish(
    server, user, task_queue, tmp_path
):
    client = await connect(server)
    slow = "django_temporal_bridge.testing.SlowFileEmailBackend"
    with worker(tmp_path, server, task_queue, email_backend=slow) as stopping:
        handle = await start_onboarding(client, user, task_queue, delay=60)
        await wait_for_status(handle, "sending welcome email")
        exit_code = await asyncio.to_thread(stopping.stop, signal.SIGTERM)

    assert exit_code == 0
    assert len(stopping.emails()) == 1
    events = [event async for event in handle.fetch_history_events()]
    completed = [
        event
        for event in events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    ]
    assert len(completed) == 2  # processing the user, and the welcome email
    await handle.terminate()


async def test_the_sdk_core_logs_through_python_logging_in_production(
    server, task_queue, tmp_path
):
    """The Rust core's warnings (here: "Failing workflow task", for a
    workflow type the worker does not know) are JSON lines like every other
    log line, not coloured text."""
    production = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "tests-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "localhost",
    }
    client = await connect(server)
    with worker(tmp_path, server, task_queue, **production) as running:
        await wait_for_output(running, "Worker polling")
        handle = await client.start_workflow(
            "no_such_workflow", id=f"unknown-{task_queue}", task_queue=task_queue
        )
        await wait_for_output(running, '"logger": "temporalio.core')
        running.stop(signal.SIGKILL)
    await handle.terminate()

    lines = running.output().splitlines()
    assert [line for line in lines if not is_json(line)] == []


# manage.py run as a script, with an interpreter-teardown hook that says
# whether the teardown ran.
MANAGE_WITH_TEARDOWN_HOOK = """
import atexit, runpy, sys
atexit.register(print, "interpreter teardown")
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
"""


async def test_a_command_that_used_temporal_skips_the_interpreter_teardown(server):
    """After the SDK has run, the interpreter's teardown can crash
    (SIGSEGV: about one `start_batch` in ten did, here): manage.py ends such
    a command before it, with the command's own exit code."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "TEMPORAL_ADDRESS": server.address,
        "TEMPORAL_NAMESPACE": server.namespace,
    }
    command = [sys.executable, "-c", MANAGE_WITH_TEARDOWN_HOOK, "start_batch", "--all"]

    result = await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Workflow batch-" in result.stdout
    assert "interpreter teardown" not in result.stdout


async def wait_for_output(running: Worker, text: str) -> None:
    async with asyncio.timeout(30):
        while text not in running.output():
            await asyncio.sleep(0.1)


def is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's connections"
)
async def test_database_connections_cut_between_activities(
    server, user, task_queue, tmp_path
):
    """As after a database restart: the next activity connects again."""
    from asgiref.sync import sync_to_async
    from django.db import connection

    def cut_worker_connections() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                [Worker.APPLICATION_NAME],
            )

    client = await connect(server)
    with worker(tmp_path, server, task_queue) as running:
        handle = await start_onboarding(client, user, task_queue, delay=3)
        await wait_for_status(handle, "waiting to follow up")
        await sync_to_async(cut_worker_connections)()
        result = await handle.result()

    assert result["emails_sent"] == 2
    assert len(running.emails()) == 2
