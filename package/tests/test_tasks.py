"""Django's task framework on Temporal, against a real dev server and a real
worker: results read back from Temporal, failures and their retries,
deferred tasks, the outbox (rolled-back transactions, Temporal down), and
what the backend refuses."""

import asyncio
import contextlib
import re
import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async as sync
from django.core.checks import run_checks
from django.core.files.storage import default_storage
from django.db import OperationalError, transaction
from django.db.models import QuerySet
from django.tasks import TaskResultStatus, default_task_backend, task
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from apps.users.tasks import export_users_csv
from django_temporal_bridge import tasks
from django_temporal_bridge.client import TemporalUnavailable
from django_temporal_bridge.models import EnqueuedTask
from django_temporal_bridge.tasks import (
    START_ENQUEUED_TASKS_WORKFLOW,
    TASK_WORKFLOW,
    StartEnqueuedTasksInput,
    TaskWorkflowInput,
)
from django_temporal_bridge.worker import create_worker
from temporal_app.models import EmailDelivery
from temporal_app.tasks import purge_email_deliveries

pytestmark = pytest.mark.django_db(transaction=True)


class TaskFailed(Exception):
    pass


@task
def add(a: int, b: int) -> int:
    return a + b


@task(max_attempts=2)
def always_fails(reason: str) -> None:
    raise TaskFailed(reason)


@task(takes_context=True)
async def attempt_number(context, label: str) -> dict:
    return {
        "label": label,
        "attempt": context.attempt,
        "worker": context.task_result.worker_ids[-1],
    }


# Set by the test that waits for its task to be running (the worker runs in
# the test's process).
RELEASE = threading.Event()


@task
def wait_for_release() -> bool:
    return RELEASE.wait(timeout=10)


def not_a_task() -> None:
    pass


@pytest.fixture
async def worker(temporal, task_queue):
    """A worker on the test's task queue (the "default" queue's)."""
    async with create_worker(temporal, task_queue=task_queue) as worker:
        yield worker


async def finished(client, result_id: str):
    """The task's result once its workflow has ended (10 s at most)."""
    with contextlib.suppress(WorkflowFailureError):
        async with asyncio.timeout(10):
            await client.get_workflow_handle(result_id).result()
    return await default_task_backend.aget_result(result_id)


# Enqueued, run on the worker, read back
# ------------------------------------------------------------------------------
@pytest.mark.integration
async def test_a_task_runs_on_the_worker_and_its_result_comes_back(temporal, worker):
    seen = []

    def record(sender, task_result, **kwargs):
        seen.append((task_result.id, task_result.status))

    task_started.connect(record)
    task_finished.connect(record)
    try:
        enqueued = await add.aenqueue(2, b=3)
        result = await finished(temporal, enqueued.id)
    finally:
        task_started.disconnect(record)
        task_finished.disconnect(record)

    assert re.fullmatch(r"task-[0-9a-f]{32}", enqueued.id)
    assert enqueued.status == TaskResultStatus.READY
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert (result.args, result.kwargs) == ([2], {"b": 3})
    assert result.task.func == add.func
    assert result.worker_ids == [temporal.identity]
    assert result.enqueued_at <= result.started_at <= result.finished_at
    assert result.last_attempted_at == result.started_at
    assert result.errors == []
    assert seen == [
        (enqueued.id, TaskResultStatus.RUNNING),
        (enqueued.id, TaskResultStatus.SUCCESSFUL),
    ]
    # Started and done: nothing left in the outbox.
    assert not await EnqueuedTask.objects.filter(pk=enqueued.id).aexists()
    assert await add.aget_result(enqueued.id) == result


@pytest.mark.integration
async def test_an_async_task_gets_its_context(temporal, worker):
    enqueued = await sync(attempt_number.enqueue)("first")

    result = await finished(temporal, enqueued.id)

    assert result.return_value == {
        "label": "first",
        "attempt": 1,
        "worker": temporal.identity,
    }


@pytest.mark.integration
async def test_a_task_is_running_while_its_attempt_runs(temporal, worker):
    RELEASE.clear()
    enqueued = await wait_for_release.aenqueue()
    async with asyncio.timeout(10):
        while (
            result := await default_task_backend.aget_result(enqueued.id)
        ).status != TaskResultStatus.RUNNING:
            await asyncio.sleep(0.05)
    RELEASE.set()

    assert result.attempts == 1
    assert result.started_at is not None
    assert result.finished_at is None
    assert (await finished(temporal, enqueued.id)).return_value is True


@pytest.mark.integration
async def test_a_running_task_heartbeats_so_a_dead_workers_task_is_retried_soon(
    temporal, worker, monkeypatch
):
    """Its activity has a heartbeat timeout, and a side thread heartbeats
    while the task runs: a task whose worker died is retried after
    TASK_HEARTBEAT_TIMEOUT, not after its whole timeout (300 s)."""
    monkeypatch.setattr(tasks, "TASK_HEARTBEAT_EVERY", timedelta(seconds=0.05))
    RELEASE.clear()
    enqueued = await wait_for_release.aenqueue()
    handle = temporal.get_workflow_handle(enqueued.id)
    try:
        async with asyncio.timeout(10):
            while not [
                pending
                for pending in (
                    await handle.describe()
                ).raw_description.pending_activities
                if pending.HasField("last_heartbeat_time")
            ]:
                await asyncio.sleep(0.05)
    finally:
        RELEASE.set()
    await finished(temporal, enqueued.id)

    scheduled = [
        event.activity_task_scheduled_event_attributes
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled[0].heartbeat_timeout.ToTimedelta() == tasks.TASK_HEARTBEAT_TIMEOUT


@pytest.mark.integration
async def test_a_failing_task_is_retried_then_fails_with_its_error(temporal, worker):
    enqueued = await always_fails.aenqueue("disk full")

    result = await finished(temporal, enqueued.id)

    assert result.status == TaskResultStatus.FAILED
    assert result.attempts == 2  # @task(max_attempts=2)
    [error] = result.errors
    assert error.exception_class is TaskFailed
    assert "raise TaskFailed(reason)" in error.traceback
    assert "disk full" in error.traceback
    assert result.finished_at is not None
    with pytest.raises(ValueError, match="Task failed"):
        _ = result.return_value


@pytest.mark.integration
async def test_a_deferred_task_is_ready_until_its_time_then_runs(temporal, worker):
    run_after = timezone.now() + timedelta(seconds=1.5)
    enqueued = await add.using(run_after=run_after).aenqueue(1, 1)

    waiting = await default_task_backend.aget_result(enqueued.id)
    result = await finished(temporal, enqueued.id)

    assert waiting.status == TaskResultStatus.READY
    assert waiting.task.run_after is not None
    assert abs(waiting.task.run_after - run_after) < timedelta(seconds=1)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.started_at >= run_after


@pytest.mark.integration
async def test_another_queue_is_a_task_queue_of_that_name(
    temporal, settings, worker, task_queue
):
    reports = f"reports-{task_queue}"
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "QUEUES": ["default", reports]}
    }
    async with create_worker(temporal, task_queue=reports):
        enqueued = await add.using(queue_name=reports).aenqueue(20, 22)
        result = await finished(temporal, enqueued.id)

    description = await temporal.get_workflow_handle(enqueued.id).describe()
    assert description.task_queue == reports
    assert result.return_value == 42


# The outbox: transactions, and Temporal down
# ------------------------------------------------------------------------------
class RolledBack(Exception):
    pass


async def workflow_exists(client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


@pytest.mark.integration
async def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs(temporal):
    enqueued = []

    def enqueue_then_roll_back():
        with transaction.atomic():
            enqueued.append(add.enqueue(1, 2))
            raise RolledBack

    with pytest.raises(RolledBack):
        await sync(enqueue_then_roll_back)()

    assert not await EnqueuedTask.objects.aexists()
    assert not await workflow_exists(temporal, enqueued[0].id)
    with pytest.raises(TaskResultDoesNotExist):
        await default_task_backend.aget_result(enqueued[0].id)


@pytest.mark.integration
async def test_a_task_enqueued_in_a_transaction_starts_once_it_commits(temporal):
    before_commit = []

    def enqueue_in_a_transaction():
        with transaction.atomic():
            result = add.enqueue(1, 2)
            before_commit.append(EnqueuedTask.objects.filter(pk=result.id).exists())
            return result

    enqueued = await sync(enqueue_in_a_transaction)()

    assert before_commit == [True]
    assert await workflow_exists(temporal, enqueued.id)
    assert not await EnqueuedTask.objects.filter(pk=enqueued.id).aexists()


async def run_the_sweep(temporal, task_queue: str, name: str = "sweep") -> dict:
    """Run the start-enqueued-tasks schedule's workflow once, over every row."""
    return await temporal.execute_workflow(
        START_ENQUEUED_TASKS_WORKFLOW,
        StartEnqueuedTasksInput(older_than_seconds=0),
        id=f"{name}-{task_queue}",
        task_queue=task_queue,
    )


@pytest.mark.integration
async def test_a_task_enqueued_while_temporal_is_down_is_started_later(
    temporal, worker, settings, monkeypatch, refusing, task_queue
):
    address = temporal.service_client.config.target_host
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.5

    began = time.monotonic()
    enqueued = await add.aenqueue(3, 4)
    took = time.monotonic() - began
    waiting = await default_task_backend.aget_result(enqueued.id)

    assert took < 3
    assert waiting.status == TaskResultStatus.READY
    assert await EnqueuedTask.objects.filter(pk=enqueued.id).aexists()

    # Temporal is back: the schedule's workflow starts what waits.
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    sweep = await run_the_sweep(temporal, task_queue)
    result = await finished(temporal, enqueued.id)

    assert sweep == {"started": 1, "already_started": 0, "failed": 0, "deferred": 0}
    assert not await EnqueuedTask.objects.aexists()
    assert result.return_value == 7

    # A row that outlived its start (a crash before its delete) is not run
    # again: the workflow id is never reused.
    await EnqueuedTask.objects.acreate(
        id=enqueued.id,
        task_path=add.module_path,
        args=[3, 4],
        timeout_seconds=10,
        max_attempts=1,
    )
    again = await run_the_sweep(temporal, task_queue, "sweep-again")
    assert again == {"started": 0, "already_started": 1, "failed": 0, "deferred": 0}
    assert not await EnqueuedTask.objects.aexists()


async def test_the_start_enqueued_tasks_schedule_is_declared():
    from django_temporal_bridge.schedules import declared_schedules

    [schedule] = [s for s in declared_schedules() if s.id == "start-enqueued-tasks"]
    assert schedule.workflow == START_ENQUEUED_TASKS_WORKFLOW
    assert schedule.every <= timedelta(minutes=1)


# What the worker refuses, and what Django refuses
# ------------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize(
    "task_path",
    ["temporal_app.tests.test_tasks.no_such_task", f"{__name__}.not_a_task"],
    ids=["missing", "not-a-task"],
)
async def test_a_task_the_worker_cannot_import_fails_at_once(
    temporal, worker, task_queue, task_path
):
    handle = await temporal.start_workflow(
        TASK_WORKFLOW,
        TaskWorkflowInput(task_path=task_path, max_attempts=5),
        id=f"task-unimportable-{task_queue}",
        task_queue=task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failure:
        async with asyncio.timeout(10):
            await handle.result()

    error = failure.value.cause.cause
    assert isinstance(error, ApplicationError)
    assert error.non_retryable
    assert error.type == "django.tasks.exceptions.InvalidTask"
    assert f"Task {task_path} cannot be imported by this worker" in error.message
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert attempts == [1]


@pytest.mark.integration
async def test_a_row_temporal_refuses_is_marked_failed_and_the_others_start(
    temporal, worker, task_queue, admin_client
):
    """Arguments over Temporal's payload limit (stored before enqueue()
    refused them): the sweep marks that row failed, with Temporal's error,
    and starts the rows around it; the admin lists it."""
    rows = [
        await EnqueuedTask.objects.acreate(
            id=f"task-{n}{task_queue[-8:]}",
            task_path=add.module_path,
            args=args,
            timeout_seconds=10,
            max_attempts=1,
        )
        for n, args in enumerate([[1, 2], ["x" * 3_000_000, ""], [3, 4]])
    ]

    async with asyncio.timeout(60):  # the old sweep retried for 30 minutes
        sweep = await run_the_sweep(temporal, task_queue)

    assert sweep == {"started": 2, "already_started": 0, "failed": 1, "deferred": 0}
    [refused] = [row async for row in EnqueuedTask.objects.all()]
    assert refused.pk == rows[1].pk
    assert refused.failed_at is not None
    assert "size" in refused.error.lower() or "limit" in refused.error.lower()
    result = await default_task_backend.aget_result(refused.pk)
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].traceback == refused.error
    page = (await sync(admin_client.get)(
        "/admin/django_temporal_bridge/enqueuedtask/?failed_at__isnull=False"
    )).content.decode()  # fmt: skip
    assert refused.pk in page


def test_arguments_over_the_payload_limit_are_refused_and_nothing_is_stored():
    with pytest.raises(ValueError, match="its arguments are 2,000,013 bytes of JSON"):
        add.enqueue("x" * 2_000_000, 1)

    assert not EnqueuedTask.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_an_error_after_the_commit_fails_neither_the_caller_nor_later_hooks(
    temporal, monkeypatch
):
    """The database fails as the started task's row is deleted: the
    committed work stands, the transaction's other hooks still run, and the
    row waits for the start-enqueued-tasks schedule (which finds it started)."""

    real_delete = QuerySet.delete

    def delete(queryset):
        if queryset.model is EnqueuedTask:
            raise OperationalError("server closed the connection unexpectedly")
        return real_delete(queryset)

    monkeypatch.setattr(QuerySet, "delete", delete)
    later = []
    with transaction.atomic():
        add.enqueue(1, 2)
        transaction.on_commit(lambda: later.append("ran"))

    assert later == ["ran"]
    assert EnqueuedTask.objects.count() == 1


def test_a_non_json_argument_is_refused_and_nothing_is_stored():
    with pytest.raises(
        TypeError, match=rf"Task {__name__}\.add: argument 0 \(object\)"
    ):
        add.enqueue(object(), 1)
    with pytest.raises(TypeError, match=r"argument 'b' \(dict\).*not strings"):
        add.enqueue(1, b={1: "one"})
    with pytest.raises(TypeError, match=r"argument 'b' \(datetime\)"):
        add.enqueue(1, b=timezone.now())

    assert not EnqueuedTask.objects.exists()


def test_priority_and_unknown_queues_are_refused():
    with pytest.raises(InvalidTask, match="priority"):
        add.using(priority=10)
    with pytest.raises(InvalidTask, match="Queue 'reports' is not valid"):
        add.using(queue_name="reports")


def test_a_bad_retry_option_fails_the_checks(settings):
    settings.TASKS = {
        "default": {
            **settings.TASKS["default"],
            "OPTIONS": {"MAX_ATTEMPTS": 0, "TIMEOUT_SECONDS": "300"},
        }
    }

    messages = [error.msg for error in run_checks()]

    assert any('TASKS["default"]["OPTIONS"]["MAX_ATTEMPTS"]' in m for m in messages)
    assert any('TASKS["default"]["OPTIONS"]["TIMEOUT_SECONDS"]' in m for m in messages)


@pytest.mark.integration
async def test_an_unknown_result_id_does_not_exist(temporal):
    with pytest.raises(TaskResultDoesNotExist):
        await default_task_backend.aget_result("task-0123")


@pytest.mark.integration
async def test_a_workflow_that_is_not_a_task_is_no_task_result(temporal, task_queue):
    handle = await temporal.start_workflow(
        START_ENQUEUED_TASKS_WORKFLOW,
        StartEnqueuedTasksInput(),
        id=f"not-a-task-{task_queue}",
        task_queue=task_queue,  # no worker: it stays running
    )

    with pytest.raises(TaskResultDoesNotExist, match="not a task"):
        await default_task_backend.aget_result(handle.id)
    await handle.terminate()


def test_reading_a_result_with_temporal_down_is_bounded(
    settings, monkeypatch, black_hole
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.5

    began = time.monotonic()
    with pytest.raises(TemporalUnavailable):
        default_task_backend.get_result("task-0123")

    assert time.monotonic() - began < 2


# The example tasks, and the admin action
# ------------------------------------------------------------------------------
def test_purging_email_deliveries_keeps_the_recent_ones():
    now = timezone.now()
    for key, age in [("old", timedelta(days=31)), ("recent", timedelta(days=29))]:
        EmailDelivery.objects.create(
            idempotency_key=key, to="a@example.com", subject="s", claimed_at=now - age
        )

    assert purge_email_deliveries.call() == {"deleted": 1}
    assert list(EmailDelivery.objects.values_list("idempotency_key", flat=True)) == [
        "recent"
    ]
    with pytest.raises(ValueError, match="retrying email activity"):
        purge_email_deliveries.call(older_than_days=0)


@pytest.mark.integration
async def test_the_users_export_action_runs_the_export_on_the_worker(
    temporal, worker, admin_client, user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = await sync(admin_client.post)(
        "/admin/users/user/",
        {"action": "export_to_csv", "_selected_action": [user.pk]},
        follow=True,
    )
    page = response.content.decode()
    [result_id] = re.findall(r"task (task-[0-9a-f]{32})", page)

    result = await finished(temporal, result_id)

    assert "in the background on the Temporal worker" in page
    assert result.task.func == export_users_csv.func
    assert result.return_value["rows"] == 1
    with default_storage.open(result.return_value["file"]) as export:
        assert b"ada@example.com" in export.read()
