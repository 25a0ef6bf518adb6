"""Django's task framework (`django.tasks`) on Temporal.

`TASKS["default"]` names `TemporalTaskBackend`: any `@task` function of any
app runs on the project's worker as a `django_task` workflow, whose one
activity imports the function by its module path and calls it. So the worker
needs no list of tasks: it runs whatever its code can import.

- `enqueue()` checks the arguments (JSON, as Django requires), writes an
  `EnqueuedTask` row in the caller's transaction (an outbox), and starts the
  workflow once that transaction commits (at once outside one). The start
  deletes the row. A rolled-back transaction takes the row with it, so the
  task never runs. When Temporal is down the enqueue still succeeds: the row
  stays, and the `start-enqueued-tasks` schedule starts it later.
- A result's id is its workflow's id (`task-<hex>`), so it is also the run in
  the Temporal Web UI. `get_result()` reads the result back from Temporal
  (or from the outbox, while the row waits there).
- `queue_name` picks the Temporal task queue: "default" is
  TEMPORAL_TASK_QUEUE, any other name listed in QUEUES is a task queue of
  that name (`run_temporal_worker --task-queue <name>` serves it).
- Each task runs with a retry and timeout policy: the backend's OPTIONS
  (MAX_ATTEMPTS, TIMEOUT_SECONDS), or the task's own
  (`@task(max_attempts=..., timeout=...)`).

`task_workflow_input()`, `TASK_WORKFLOW` and `temporal_task_queue()` let
other code (a Temporal Schedule) start a task's workflow itself.
"""

import asyncio
import contextvars
import json
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.checks import Error
from django.db import router, transaction
from django.tasks import DEFAULT_TASK_QUEUE_NAME, Task, TaskContext
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError, TaskResult, TaskResultStatus
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.json import normalize_json
from django.utils.module_loading import import_string
from temporalio import activity
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from .client import TemporalUnavailable, shared_client
from .models import EnqueuedTask

logger = logging.getLogger(__name__)

# The registered name of the workflow that runs a task.
TASK_WORKFLOW = "django_task"
# The schedule (schedules.outbox_schedule) that starts the tasks left in the
# outbox, and the workflow it runs.
START_ENQUEUED_TASKS = "start-enqueued-tasks"
START_ENQUEUED_TASKS_WORKFLOW = "start_enqueued_tasks"

# A task that raises is tried this many times in all, each attempt bounded by
# the timeout: a task that fails for good must not retry forever (an activity
# of the example workflows retries without a cap, as it only waits out an
# outage; a task's code can be wrong). Per task: @task(max_attempts=...).
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_TIMEOUT_SECONDS = 300
# A row younger than this may still be starting from its on_commit hook.
OUTBOX_GRACE = timedelta(seconds=5)
# The JSON of a task's arguments at most: Temporal refuses a payload over
# 2 MB by default (its blob size limit), and the input carries more.
MAX_ARGUMENTS_BYTES = 1_500_000
# The error class of a task whose start Temporal refused for good.
REFUSED_START = f"{RPCError.__module__}.{RPCError.__qualname__}"
# A running task's activity heartbeats this often; without a heartbeat for
# TASK_HEARTBEAT_TIMEOUT, Temporal retries it elsewhere (its worker died)
# rather than wait out the task's whole timeout.
TASK_HEARTBEAT_EVERY = timedelta(seconds=10)
TASK_HEARTBEAT_TIMEOUT = timedelta(seconds=30)


@dataclass
class TaskWorkflowInput:
    """The input of a `django_task` workflow: which task, with what."""

    task_path: str  # the module path of the Task (module.function)
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    backend: str = "default"
    queue_name: str = DEFAULT_TASK_QUEUE_NAME
    enqueued_at: str = ""  # ISO 8601
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True, slots=True, kw_only=True)
class TemporalTask(Task):
    """Django's Task, with a retry and timeout policy of its own:
    `@task(max_attempts=5, timeout=timedelta(minutes=30))`. None takes the
    backend's OPTIONS."""

    # How long one attempt may run (Temporal's start-to-close timeout).
    timeout: timedelta | None = None
    # How many attempts in all, the first included.
    max_attempts: int | None = None


class TemporalTaskBackend(BaseTaskBackend):
    """Run `@task` functions on the project's Temporal worker."""

    task_class = TemporalTask
    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    # Temporal orders a task queue by priority only where the server enables
    # it: lanes are queues here (queue_name), and Django refuses a priority.
    supports_priority = False

    def __init__(self, alias, params):
        super().__init__(alias, params)
        self.timeout_seconds = self.options.get(
            "TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS
        )
        self.max_attempts = self.options.get("MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)

    def check(self, **kwargs):
        options = f'TASKS["{self.alias}"]["OPTIONS"]'
        errors = []
        timeout = self.timeout_seconds
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or timeout <= 0
        ):
            errors.append(
                Error(
                    f'{options}["TIMEOUT_SECONDS"] must be a positive number of '
                    f"seconds, not {timeout!r}.",
                    id="django_temporal_bridge.E101",
                )
            )
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            errors.append(
                Error(
                    f'{options}["MAX_ATTEMPTS"] must be a whole number of at least '
                    f"1, not {attempts!r}.",
                    id="django_temporal_bridge.E102",
                )
            )
        return errors

    def validate_task(self, task):
        super().validate_task(task)
        timeout = getattr(task, "timeout", None)
        if timeout is not None and timeout <= timedelta(0):
            raise InvalidTask("timeout must be a positive timedelta.")
        max_attempts = getattr(task, "max_attempts", None)
        if max_attempts is not None and max_attempts < 1:
            raise InvalidTask("max_attempts must be at least 1.")

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        input = task_workflow_input(task, args, kwargs)
        size = len(json.dumps([input.args, input.kwargs]).encode())
        if size > MAX_ARGUMENTS_BYTES:
            raise ValueError(
                f"Task {task.module_path}: its arguments are {size:,} bytes of "
                f"JSON, more than a Temporal payload takes "
                f"({MAX_ARGUMENTS_BYTES:,}); pass ids and let the task read "
                f"the data."
            )
        database = router.db_for_write(EnqueuedTask)
        row = EnqueuedTask.objects.using(database).create(
            id=task_workflow_id(),
            task_path=input.task_path,
            backend=self.alias,
            queue_name=input.queue_name,
            args=input.args,
            kwargs=input.kwargs,
            run_after=task.run_after,
            timeout_seconds=input.timeout_seconds,
            max_attempts=input.max_attempts,
        )
        # After the commit, so nothing starts for a rolled-back transaction;
        # at once when no transaction is open. robust: an error there must
        # neither fail a committed request nor drop the other hooks.
        transaction.on_commit(
            partial(_start_after_commit, row, database), using=database, robust=True
        )
        result = _result_of_row(row, task)
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id):
        row = EnqueuedTask.objects.filter(pk=result_id).first()
        if row is not None:
            return _result_of_row(row)
        return shared_client.call(partial(read_task_result, result_id=result_id))

    async def aget_result(self, result_id):
        row = await EnqueuedTask.objects.filter(pk=result_id).afirst()
        if row is not None:
            return await sync_to_async(_result_of_row)(row)
        return await shared_client.acall(partial(read_task_result, result_id=result_id))


def task_workflow_id() -> str:
    """Return a new result (and workflow) id."""
    return f"task-{uuid.uuid4().hex}"


def temporal_task_queue(queue_name: str) -> str:
    """Return the Temporal task queue of a Django queue name: "default" is
    TEMPORAL_TASK_QUEUE, any other is a task queue of that name."""
    if queue_name == DEFAULT_TASK_QUEUE_NAME:
        return settings.TEMPORAL_TASK_QUEUE
    return queue_name


def task_workflow_input(task: Task, args=(), kwargs=None) -> TaskWorkflowInput:
    """Return the input of the workflow that runs `task(*args, **kwargs)`.

    Raises TypeError naming the task and the argument when an argument does
    not survive a trip through JSON (Django's rule for task arguments).
    """
    kwargs = kwargs or {}
    backend = task.get_backend()
    timeout = getattr(task, "timeout", None)
    max_attempts: int = getattr(task, "max_attempts", 0) or getattr(
        backend, "max_attempts", DEFAULT_MAX_ATTEMPTS
    )
    return TaskWorkflowInput(
        task_path=task.module_path,
        args=[
            _json_argument(task, f"argument {i}", value) for i, value in enumerate(args)
        ],
        kwargs={
            name: _json_argument(task, f"argument {name!r}", value)
            for name, value in kwargs.items()
        },
        backend=task.backend,
        queue_name=task.queue_name,
        enqueued_at=timezone.now().isoformat(),
        timeout_seconds=(
            timeout.total_seconds()
            if timeout is not None
            else getattr(backend, "timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
        ),
        max_attempts=max_attempts,
    )


def _json_argument(task: Task, name: str, value: Any) -> Any:
    """`value` as JSON gives it back, or a TypeError that says which."""
    try:
        normalized = normalize_json(value)
        same = json.loads(json.dumps(normalized, allow_nan=False)) == normalized
    except (TypeError, ValueError) as error:
        reason = str(error)
    else:
        if same:
            return normalized
        reason = "it changes through JSON (keys that are not strings?)"
    raise TypeError(
        f"Task {task.module_path}: {name} ({type(value).__name__}) is not "
        f"JSON-serializable: {reason}. Pass ids, strings, numbers, lists and "
        f"dicts (a model instance by its pk)."
    )


async def start_task_workflow(
    client: Client, workflow_id: str, input: TaskWorkflowInput, *, run_after=None
) -> bool:
    """Start the task's workflow; return False when it was started before.

    The id is never reused (REJECT_DUPLICATE): a task runs once, even when
    the outbox's row outlives its start.
    """
    now = timezone.now()
    try:
        await client.start_workflow(
            TASK_WORKFLOW,
            input,
            id=workflow_id,
            task_queue=temporal_task_queue(input.queue_name),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            start_delay=run_after - now if run_after and run_after > now else None,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


def _row_input(row: EnqueuedTask) -> TaskWorkflowInput:
    return TaskWorkflowInput(
        task_path=row.task_path,
        args=row.args,
        kwargs=row.kwargs,
        backend=row.backend,
        queue_name=row.queue_name,
        enqueued_at=row.enqueued_at.isoformat(),
        timeout_seconds=row.timeout_seconds,
        max_attempts=row.max_attempts,
    )


def _start_after_commit(row: EnqueuedTask, database: str) -> None:
    """Start the workflow of an outbox row, then delete the row from the
    database it was written to. The caller has committed: nothing here may
    fail it, and nothing is lost, as the start-enqueued-tasks schedule starts
    what did not start (a start that the schedule made first is no second
    run: the id is the same)."""
    try:
        shared_client.start(
            lambda client: start_task_workflow(
                client, row.pk, _row_input(row), run_after=row.run_after
            )
        )
    except TemporalUnavailable as error:
        logger.warning(
            "Task %s (%s) not started (%s); the %s schedule will start it",
            row.pk,
            row.task_path,
            error,
            START_ENQUEUED_TASKS,
        )
        return
    except Exception:
        logger.exception(
            "Task %s (%s) not started; the %s schedule will start it",
            row.pk,
            row.task_path,
            START_ENQUEUED_TASKS,
        )
        return
    EnqueuedTask.objects.using(database).filter(pk=row.pk).delete()


def _task_of(input_or_row, run_after=None) -> Task:
    """The Task a workflow input or an outbox row names."""
    try:
        task = import_string(input_or_row.task_path)
    except (ImportError, AttributeError) as error:
        raise TaskResultDoesNotExist(
            f"{input_or_row.task_path} cannot be imported here: {error}"
        ) from error
    if not isinstance(task, Task):
        raise TaskResultDoesNotExist(f"{input_or_row.task_path} is not a Task")
    return task.using(queue_name=input_or_row.queue_name, run_after=run_after)


def _result_of_row(row: EnqueuedTask, task: Task | None = None) -> TaskResult:
    """The result of a task still in the outbox: READY, or FAILED with
    Temporal's error when Temporal refused its start for good."""
    refused = row.failed_at is not None
    return TaskResult(
        task=task or _task_of(row, row.run_after),
        id=row.pk,
        status=TaskResultStatus.FAILED if refused else TaskResultStatus.READY,
        enqueued_at=row.enqueued_at,
        started_at=None,
        finished_at=row.failed_at,
        last_attempted_at=None,
        args=row.args,
        kwargs=row.kwargs,
        backend=row.backend,
        errors=[TaskError(exception_class_path=REFUSED_START, traceback=row.error)]
        if refused
        else [],
        worker_ids=[],
    )


# Reading a result back from Temporal
# ------------------------------------------------------------------------------
FAILED_STATUSES = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
}


async def read_task_result(client: Client, *, result_id: str) -> TaskResult:
    """Return the TaskResult of the task whose workflow id is `result_id`.

    From the workflow's description (status, the attempt in flight) and its
    history (the input, the last attempt's start and worker, the return
    value or the error). Temporal keeps the start and worker of the last
    attempt only: `worker_ids` repeats that worker once per attempt (so
    `attempts` is right), and `started_at` is the last attempt's start.
    """
    handle = client.get_workflow_handle(result_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise TaskResultDoesNotExist(result_id) from error
        raise
    if description.workflow_type != TASK_WORKFLOW:
        raise TaskResultDoesNotExist(f"{result_id} is not a task's workflow")

    converter = client.data_converter
    input = None
    attempts, worker, started_at, finished_at = 0, "", None, None
    return_value, errors = None, []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [input] = await converter.decode(payloads, [TaskWorkflowInput])
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            attempts, worker = started.attempt, started.identity
            started_at = event.event_time.ToDatetime(tzinfo=UTC)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            payloads = event.activity_task_completed_event_attributes.result.payloads
            [return_value] = await converter.decode(payloads) if payloads else [None]
            finished_at = event.event_time.ToDatetime(tzinfo=UTC)
        elif event.event_type in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        ):
            ended = (
                event.activity_task_failed_event_attributes
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
                else event.activity_task_timed_out_event_attributes
            )
            errors.append(_task_error(await converter.decode_failure(ended.failure)))
            finished_at = event.event_time.ToDatetime(tzinfo=UTC)
    if input is None:
        raise TaskResultDoesNotExist(f"{result_id} has no task input")

    status = TaskResultStatus.READY
    if description.status == WorkflowExecutionStatus.COMPLETED:
        status = TaskResultStatus.SUCCESSFUL
    elif description.status in FAILED_STATUSES:
        status = TaskResultStatus.FAILED
        finished_at = finished_at or description.close_time
    else:
        finished_at = None
        for pending in description.raw_description.pending_activities:
            # Between attempts the activity is SCHEDULED again: READY, as
            # Django calls a task that waits to be tried again.
            running = (
                pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            )
            attempts = pending.attempt if running else pending.attempt - 1
            worker = pending.last_worker_identity
            if pending.HasField("last_started_time"):
                started_at = pending.last_started_time.ToDatetime(tzinfo=UTC)
            if pending.HasField("last_failure"):
                errors.append(
                    _task_error(await converter.decode_failure(pending.last_failure))
                )
            if running:
                status = TaskResultStatus.RUNNING

    # A start delay (run_after) puts the first run's execution after its start.
    run_after = None
    start, execution = description.start_time, description.execution_time
    if start and execution and execution - start > timedelta(seconds=1):
        run_after = execution
    result: TaskResult = TaskResult(
        task=_task_of(input, run_after),
        id=result_id,
        status=status,
        enqueued_at=(
            datetime.fromisoformat(input.enqueued_at)
            if input.enqueued_at
            else description.start_time
        ),
        started_at=started_at,
        finished_at=finished_at,
        last_attempted_at=started_at,
        args=input.args,
        kwargs=input.kwargs,
        backend=input.backend,
        errors=errors,
        worker_ids=[worker] * attempts,
    )
    if status == TaskResultStatus.SUCCESSFUL:
        object.__setattr__(result, "_return_value", return_value)
    return result


def _task_error(error: BaseException) -> TaskError:
    """A TaskError from the failure of an attempt: the task's own exception
    (run_task_activity sends its class path and traceback), or Temporal's
    (a timeout, say)."""
    if isinstance(error, ApplicationError) and error.type and error.details:
        return TaskError(
            exception_class_path=error.type, traceback=str(error.details[0])
        )
    kind = type(error)
    return TaskError(
        exception_class_path=f"{kind.__module__}.{kind.__qualname__}",
        traceback=str(error),
    )


# The worker's side
# ------------------------------------------------------------------------------
@activity.defn
def run_task_activity(input: TaskWorkflowInput) -> Any:
    """Import the task by its module path and call it (a plain `def`, run on
    the worker's thread pool, with fresh database connections around it).

    A task this worker cannot import fails at once (not retryable); an
    exception of the task is sent with its class path and traceback, and
    retried by the workflow's policy.
    """
    info = activity.info()
    try:
        task = import_string(input.task_path)
        if not isinstance(task, Task):
            raise TypeError(f"{input.task_path} is a {type(task).__name__}, not a Task")
    except (ImportError, AttributeError, TypeError) as error:
        message = (
            f"Task {input.task_path} cannot be imported by this worker ({error}): "
            "is the worker running the same code as the web process?"
        )
        raise ApplicationError(
            message,
            "".join(traceback.format_exception(error)),
            type=f"{InvalidTask.__module__}.{InvalidTask.__qualname__}",
            non_retryable=True,
        ) from None
    now = timezone.now()
    result: TaskResult = TaskResult(
        task=task,
        id=info.workflow_id or info.activity_id,
        status=TaskResultStatus.RUNNING,
        enqueued_at=(
            datetime.fromisoformat(input.enqueued_at) if input.enqueued_at else None
        ),
        started_at=now,
        finished_at=None,
        last_attempted_at=now,
        args=input.args,
        kwargs=input.kwargs,
        backend=input.backend,
        errors=[],
        # Django counts attempts by worker ids: one per attempt so far.
        worker_ids=[_worker_identity()] * info.attempt,
    )
    sender = type(task.get_backend())
    task_started.send(sender, task_result=result)
    try:
        with _heartbeating():
            value = _call(task, result, input)
    except Exception as error:
        kind = type(error)
        path = f"{kind.__module__}.{kind.__qualname__}"
        formatted = "".join(traceback.format_exception(error))
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        object.__setattr__(result, "finished_at", timezone.now())
        result.errors.append(TaskError(exception_class_path=path, traceback=formatted))
        task_finished.send(sender, task_result=result)
        raise ApplicationError(f"{path}: {error}", formatted, type=path) from None
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    object.__setattr__(result, "finished_at", timezone.now())
    object.__setattr__(result, "_return_value", value)
    task_finished.send(sender, task_result=result)
    return value


def _call(task: Task, result: TaskResult, input: TaskWorkflowInput) -> Any:
    if task.takes_context:
        value = task.call(TaskContext(task_result=result), *input.args, **input.kwargs)
    else:
        value = task.call(*input.args, **input.kwargs)
    return normalize_json(value)


@contextmanager
def _heartbeating():
    """Heartbeat from a side thread while the task runs on the activity's
    own (the task is any code: it cannot be asked to). The side thread runs
    in a copy of the activity's context, where activity.heartbeat works."""
    done = threading.Event()
    context = contextvars.copy_context()

    def beat() -> None:
        while not done.wait(TASK_HEARTBEAT_EVERY.total_seconds()):
            activity.heartbeat()

    thread = threading.Thread(
        target=context.run, args=(beat,), name="task-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _worker_identity() -> str:
    """This worker's identity as Temporal's clients make it by default (a
    sync activity has no access to its worker's client)."""
    return f"{os.getpid()}@{socket.gethostname()}"


@dataclass
class StartEnqueuedTasksInput:
    # Rows this much older than now are started (younger ones may still be
    # starting from their on_commit hook); rows per page.
    older_than_seconds: float = OUTBOX_GRACE.total_seconds()
    page_size: int = 200


MAX_CONCURRENT_STARTS = 20


async def _start_row(client: Client, row: EnqueuedTask) -> str:
    """Start one outbox row's workflow and delete the row; say what became
    of it. A start Temporal refuses for good marks the row failed; any other
    error leaves it for the next sweep. Never raises: one row must not stop
    the others."""
    try:
        started = await start_task_workflow(
            client, row.pk, _row_input(row), run_after=row.run_after
        )
    except RPCError as error:
        if error.status != RPCStatusCode.INVALID_ARGUMENT:
            logger.warning("Task %s not started (%s); next sweep", row.pk, error)
            return "deferred"
        logger.error("Task %s (%s) cannot start: %s", row.pk, row.task_path, error)
        await EnqueuedTask.objects.filter(pk=row.pk).aupdate(
            failed_at=timezone.now(), error=str(error)
        )
        return "failed"
    except Exception:
        logger.exception("Task %s not started; next sweep", row.pk)
        return "deferred"
    await EnqueuedTask.objects.filter(pk=row.pk).adelete()
    return "started" if started else "already_started"


@activity.defn
async def start_enqueued_tasks_activity(input: StartEnqueuedTasksInput) -> dict:
    """Start the workflows of the tasks left in the outbox, through the
    worker's client, row by row: each started row is deleted, and a task
    started before (by its on_commit hook, or a sweep that died) is not
    started again. Returns how many rows went each way."""
    client = activity.client()
    slots = asyncio.Semaphore(MAX_CONCURRENT_STARTS)
    counts = dict.fromkeys(("started", "already_started", "failed", "deferred"), 0)
    after = ""

    async def start(row: EnqueuedTask) -> str:
        async with slots:
            return await _start_row(client, row)

    while True:
        cutoff = timezone.now() - timedelta(seconds=input.older_than_seconds)
        rows = [
            row
            async for row in EnqueuedTask.objects.filter(
                enqueued_at__lte=cutoff, failed_at__isnull=True, pk__gt=after
            ).order_by("pk")[: input.page_size]
        ]
        for outcome in await asyncio.gather(*(start(row) for row in rows)):
            counts[outcome] += 1
        activity.heartbeat(len(rows))
        if len(rows) < input.page_size:
            return counts
        after = rows[-1].pk


TASK_ACTIVITIES: list[Callable] = [run_task_activity, start_enqueued_tasks_activity]
