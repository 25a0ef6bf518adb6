"""The project's Temporal Schedules, declared in code.

`python manage.py sync_temporal_schedules` makes the server match
`declared_schedules()`: it creates the schedules that are missing, updates
those whose declaration changed, and deletes those it created that are no
longer declared. Schedules made by other means (the CLI, the Web UI) are
left alone, and a schedule paused on the server stays paused. Run it on
every deploy; `make dev` and the Docker Compose stack run it.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from .core.tasks import (
    START_ENQUEUED_TASKS,
    START_ENQUEUED_TASKS_WORKFLOW,
    StartEnqueuedTasksInput,
)
from .workflows import ReconcileOnboardingInput

RECONCILE_ONBOARDING = "reconcile-onboarding"

# Memo of the schedules the sync created, and so may delete.
MANAGED_BY = "managed_by"


@dataclass(frozen=True)
class DeclaredSchedule:
    """A workflow started every `every`, one run at a time."""

    id: str
    workflow: str  # the workflow's registered name
    arg: Any  # its input
    every: timedelta
    description: str
    # A run still going when the next is due: skip the next (Temporal's default).
    overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP

    def fingerprint(self) -> str:
        """A digest of all the declaration sets: it changes when they do."""
        arg = (
            dataclasses.asdict(self.arg)
            if dataclasses.is_dataclass(self.arg)
            else self.arg
        )
        declared = [
            self.workflow,
            arg,
            self.every.total_seconds(),
            self.description,
            self.overlap.name,
            settings.TEMPORAL_TASK_QUEUE,
        ]
        digest = hashlib.sha256(json.dumps(declared, default=str).encode())
        return f"fingerprint {digest.hexdigest()[:16]}"

    def schedule(self) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(
                self.workflow,
                self.arg,
                id=self.id,  # Temporal appends the time of each run
                task_queue=settings.TEMPORAL_TASK_QUEUE,
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=self.every)]),
            policy=SchedulePolicy(
                overlap=self.overlap,
                # After an outage, one catch-up run rather than one per
                # missed interval.
                catchup_window=max(self.every, timedelta(minutes=1)),
            ),
            # The note shows in the Web UI, and tells the sync what it set.
            state=ScheduleState(
                note=f"{self.description} Declared in temporal_app/schedules.py "
                f"({self.fingerprint()})."
            ),
        )


def declared_schedules() -> list[DeclaredSchedule]:
    """The schedules the server should have."""
    schedules = []
    if settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP:
        schedules.append(
            DeclaredSchedule(
                id=RECONCILE_ONBOARDING,
                workflow="reconcile_onboarding",
                arg=ReconcileOnboardingInput(),
                every=timedelta(
                    seconds=settings.TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS
                ),
                description="Starts onboarding for users who have none "
                "(signed up while Temporal was down).",
            )
        )
    # The outbox of django.tasks: tasks enqueued while Temporal was down.
    schedules.append(
        DeclaredSchedule(
            id=START_ENQUEUED_TASKS,
            workflow=START_ENQUEUED_TASKS_WORKFLOW,
            arg=StartEnqueuedTasksInput(),
            every=timedelta(minutes=1),
            description="Starts the background tasks enqueued while Temporal "
            "was unreachable (temporal_app.core.tasks).",
        )
    )
    return schedules


def managed_by() -> str:
    """Who owns a schedule this sync created: this project's task queue."""
    return f"sync_temporal_schedules:{settings.TEMPORAL_TASK_QUEUE}"


@dataclass(frozen=True)
class Change:
    action: Literal["create", "update", "delete", "unchanged"]
    schedule_id: str
    declared: DeclaredSchedule | None = None


async def plan(client: Client) -> list[Change]:
    """What the sync would do, schedule by schedule."""
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
        if listed.id not in declared and (
            (await listed.memo()).get(MANAGED_BY) == managed_by()
        ):
            changes.append(Change("delete", listed.id))
    return changes


async def apply(client: Client, changes: list[Change]) -> None:
    """Make the changes of a plan."""
    for change in changes:
        handle = client.get_schedule_handle(change.schedule_id)
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


def _updater(schedule: Schedule):
    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        paused = current.description.schedule.state.paused  # an operator's pause stays
        state = dataclasses.replace(schedule.state, paused=paused)
        return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

    return update
