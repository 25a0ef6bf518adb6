"""Temporal Schedules declared in code, and the sync that applies them.

Each installed app declares its periodic jobs next to the code they run: a
`schedules.py` with a function `declared_schedules()` that returns a list of
`DeclaredSchedule` (a function rather than a constant, so a declaration can
depend on settings). They are found as the worker finds `workflows.py`
(discovery.py).

`python manage.py sync_temporal_schedules` makes the server match them:
`plan()` compares, `apply()` creates the schedules that are missing, updates
those whose declaration changed, and deletes those the sync created that are
no longer declared. Schedules made by other means (the CLI, the Web UI) are
left alone. Pausing belongs to operators: a schedule declared `paused` is
created paused, and an update keeps whatever paused state the server has.
"""

import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, NoReturn

from django.conf import settings
from django.tasks import Task
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from .discovery import app_modules
from .encryption import payload_keys
from .tasks import (
    START_ENQUEUED_TASKS,
    START_ENQUEUED_TASKS_WORKFLOW,
    TASK_WORKFLOW,
    StartEnqueuedTasksInput,
    task_workflow_input,
    temporal_task_queue,
)

logger = logging.getLogger(__name__)

# Memo of the schedules the sync created, and so may delete.
MANAGED_BY = "managed_by"


class InvalidScheduleError(ValueError):
    """A declaration that cannot become a schedule; the message names it."""


@dataclass(frozen=True, kw_only=True)
class DeclaredSchedule:
    """A periodic job: when it runs (`every` or `cron`), what it starts (a
    `workflow` with its `arg`, or a `@task` with its `args`), and its policies.
    """

    id: str
    description: str
    # When: either an interval, or a cron expression ("minute hour
    # day-of-month month day-of-week") read as the clock time in
    # settings.TIME_ZONE: a time the clocks skip for daylight saving does
    # not run, a time they repeat runs twice.
    every: timedelta | None = None
    cron: str = ""
    # What: a workflow by its registered name, and its input...
    workflow: str = ""
    arg: Any = None
    # ...or a django.tasks `@task` function and its (JSON) arguments.
    task: Task | None = None
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Ids of the runs' workflows, to which Temporal appends each run's time
    # (e.g. "nightly-report-2026-01-01T03:00:00Z"); default: the id.
    workflow_id: str = ""
    # A run still going when the next is due: the next is skipped. Two runs
    # of the same job at once rarely do anything but compete.
    overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP
    # Runs missed while Temporal was down (an upgrade, an outage) still
    # happen if it is back within this window; Temporal's own default is a
    # year, which after a long outage means stale runs that nobody expects.
    catchup_window: timedelta = timedelta(hours=1)
    # Created paused: an operator unpauses it (Web UI, or `temporal schedule
    # toggle --unpause`). Only applies on creation: the sync never pauses or
    # unpauses a schedule that exists.
    paused: bool = False

    def __post_init__(self) -> None:
        if (self.every is None) == (not self.cron):
            self._invalid("give either every= (an interval) or cron=")
        if self.every is not None and self.every < timedelta(seconds=1):
            self._invalid(f"every={self.every} is shorter than a second")
        if self.cron:
            problem = cron_problem(self.cron)
            if problem:
                self._invalid(f'cron "{self.cron}": {problem}')
        if self.catchup_window < timedelta(seconds=10):  # Temporal's minimum
            self._invalid(f"catchup_window={self.catchup_window} is under 10 s")
        if bool(self.workflow) == (self.task is not None):
            self._invalid("give either workflow= (a workflow's name) or task=")
        if self.task is not None:
            try:
                json.dumps([self.args, self.kwargs])
            except TypeError as error:  # as Django's task framework requires
                self._invalid(f"the task's arguments are not JSON: {error}")

    def _invalid(self, problem: str) -> NoReturn:
        raise InvalidScheduleError(f"Schedule {self.id!r}: {problem}")

    def summary(self) -> str:
        """Say when the schedule runs and what it starts, in a few words."""
        if self.cron:
            when = f'cron "{self.cron}" {settings.TIME_ZONE}'
        else:
            assert self.every is not None  # __post_init__: one of the two
            when = f"every {_duration(self.every)}"
        paused = ", paused" if self.paused else ""
        what = f"task {self.task.module_path}" if self.task else self.workflow
        return f"{when}{paused}; starts {what}"

    def fingerprint(self) -> str:
        """Digest every declared field, the action it builds and the settings
        the schedule reads: it changes when any of them does."""
        declared = {
            f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
        }
        # What each run starts, as built: a task's queue, timeout and
        # attempts come from the task and the backend's OPTIONS.
        action = self.action()
        declared["action"] = {
            "workflow": action.workflow,
            "args": [_plain(arg) for arg in action.args],
            "task_queue": action.task_queue,
        }
        declared["time_zone"] = settings.TIME_ZONE if self.cron else None
        if keys := payload_keys():
            # The schedule's workflow arguments are payloads, encrypted with
            # the current key: a sync after a rotation rewrites them with the
            # new one (its memo keeps the key it was created with).
            declared["payload_key_id"] = keys.current_key_id
        text = json.dumps(declared, sort_keys=True, default=str)
        return f"fingerprint {hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def schedule(self) -> Schedule:
        """Build the Temporal Schedule this declaration stands for."""
        if self.cron:
            spec = ScheduleSpec(
                cron_expressions=[self.cron], time_zone_name=settings.TIME_ZONE
            )
        else:
            assert self.every is not None  # __post_init__: one of the two
            spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=self.every)])
        return Schedule(
            action=self.action(),
            spec=spec,
            policy=SchedulePolicy(
                overlap=self.overlap, catchup_window=self.catchup_window
            ),
            # The note shows in the Web UI, and tells the sync what it set.
            state=ScheduleState(
                note=f"{self.description} Declared in code ({self.fingerprint()}).",
                paused=self.paused,
            ),
        )

    def action(self) -> ScheduleActionStartWorkflow:
        """Build what each run starts."""
        if self.task is not None:
            return task_action(self)
        return ScheduleActionStartWorkflow(
            self.workflow,
            self.arg,
            id=self.workflow_id or self.id,
            task_queue=settings.TEMPORAL_TASK_QUEUE,
        )


def task_action(schedule: DeclaredSchedule) -> ScheduleActionStartWorkflow:
    """Build the start of the workflow that runs `schedule.task(*args,
    **kwargs)` once, as `enqueue()` would: the task backend's workflow, its
    input and the task queue of the task's queue_name."""
    task = schedule.task
    assert task is not None  # a task's schedule
    input = task_workflow_input(task, schedule.args, schedule.kwargs)
    return ScheduleActionStartWorkflow(
        TASK_WORKFLOW,
        # Each run's enqueued_at is its start time, not the time of the sync.
        dataclasses.replace(input, enqueued_at=""),
        id=schedule.workflow_id or schedule.id,  # Temporal appends the run's time
        task_queue=temporal_task_queue(task.queue_name),
    )


def _plain(value: Any) -> Any:
    """A JSON-ready form of a declared value, for the fingerprint."""
    if isinstance(value, Task):
        return value.module_path
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, ScheduleOverlapPolicy):
        return value.name
    return value


def _duration(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# The fields of a cron expression, their ranges and names.
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun",
          "jul", "aug", "sep", "oct", "nov", "dec"]  # fmt: skip
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
CRON_FIELDS = [
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),  # 0 and 7 are Sunday
]
CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"}
CRON_ITEM = re.compile(r"^(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?$")


def cron_problem(expression: str) -> str:
    """Say what is wrong with a cron expression; "" when nothing is."""
    if expression.strip().lower() in CRON_MACROS:
        return ""
    fields = expression.split()
    if len(fields) != len(CRON_FIELDS):
        return (
            f"{len(fields)} fields, expected 5 (minute hour day-of-month "
            "month day-of-week) or one of " + ", ".join(sorted(CRON_MACROS))
        )
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in text.split(","):
            match = CRON_ITEM.match(item.lower())
            if not match:
                return f"{name} {item!r} is not *, N, N-M or one of those /step"
            for value in filter(None, match.group(2, 3)):
                if value in names:
                    continue
                if not value.isdigit() or not low <= int(value) <= high:
                    return f"{name} {value!r} is not in {low}-{high}"
            if match.group(4) is not None and int(match.group(4)) == 0:
                return f"{name} {item!r} has a step of 0"
    return ""


def outbox_schedule() -> DeclaredSchedule:
    """The package's own schedule: it starts the `@task`s left in the outbox
    (enqueued while Temporal was unreachable; see tasks.py)."""
    return DeclaredSchedule(
        id=START_ENQUEUED_TASKS,
        workflow=START_ENQUEUED_TASKS_WORKFLOW,
        arg=StartEnqueuedTasksInput(),
        every=timedelta(minutes=1),
        description="Starts the background tasks enqueued while Temporal "
        "was unreachable (django_temporal_bridge.tasks).",
        # After an outage, one run starts every task still waiting.
        catchup_window=timedelta(minutes=1),
    )


def declared_schedules() -> list[DeclaredSchedule]:
    """Collect the schedules the server should have: the outbox's, and
    those of every other installed app's `schedules.py` (its
    `declared_schedules()`)."""
    schedules: dict[str, DeclaredSchedule] = {START_ENQUEUED_TASKS: outbox_schedule()}
    apps = [
        module for module in app_modules("schedules") if module.__name__ != __name__
    ]
    for module in apps:
        for schedule in module.declared_schedules():
            if schedule.id in schedules:
                raise InvalidScheduleError(
                    f"Schedule {schedule.id!r} is declared twice "
                    f"(again in {module.__name__})"
                )
            schedules[schedule.id] = schedule
    return list(schedules.values())


def managed_by() -> str:
    """Say who owns a schedule this sync created: this project's task queue."""
    return f"sync_temporal_schedules:{settings.TEMPORAL_TASK_QUEUE}"


@dataclass(frozen=True)
class Change:
    action: Literal["create", "update", "delete", "unchanged"]
    schedule_id: str
    declared: DeclaredSchedule | None = None


async def plan(client: Client) -> list[Change]:
    """Compare the declared schedules with the server's: what the sync would
    do, schedule by schedule."""
    changes = []
    declared = {schedule.id: schedule for schedule in declared_schedules()}
    for schedule in declared.values():
        try:
            description = await client.get_schedule_handle(schedule.id).describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            changes.append(Change("create", schedule.id, schedule))
            continue
        same = schedule.fingerprint() in (description.schedule.state.note or "")
        changes.append(Change("unchanged" if same else "update", schedule.id, schedule))
    async for listed in await client.list_schedules():
        if listed.id not in declared and await _managed_here(listed):
            changes.append(Change("delete", listed.id))
    return changes


async def _managed_here(listed) -> bool:
    """Whether this sync created the schedule; a memo it cannot decode (a
    foreign schedule's, written with other payload keys or a codec of its
    own) is not its."""
    try:
        memo = await listed.memo()
    except Exception as error:
        logger.info(
            "Schedule %s left alone: its memo is unreadable (%s)", listed.id, error
        )
        return False
    return memo.get(MANAGED_BY) == managed_by()


async def apply(client: Client, changes: list[Change]) -> None:
    """Make the changes of a plan. Another sync at the same time (two
    deploys) may have made one already: a schedule that exists when it is
    created, or is gone when it is updated or deleted, counts as done."""
    for change in changes:
        handle = client.get_schedule_handle(change.schedule_id)
        try:
            if change.action == "create":
                assert change.declared is not None
                await client.create_schedule(
                    change.schedule_id,
                    change.declared.schedule(),
                    memo={MANAGED_BY: managed_by()},
                )
            elif change.action == "update":
                assert change.declared is not None
                await handle.update(_updater(change.declared.schedule()))
            elif change.action == "delete":
                await handle.delete()
        except ScheduleAlreadyRunningError:
            logger.info("Schedule %s: created meanwhile", change.schedule_id)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            logger.info("Schedule %s: deleted meanwhile", change.schedule_id)


def _updater(schedule: Schedule):
    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        paused = current.description.schedule.state.paused  # an operator's choice
        state = dataclasses.replace(schedule.state, paused=paused)
        return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

    return update
