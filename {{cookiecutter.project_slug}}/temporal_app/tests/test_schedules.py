"""Schedules declared in code, against a real Temporal dev server: what
`sync_temporal_schedules` creates, updates, deletes and leaves alone; and the
reconcile-onboarding schedule, which onboards the users who signed up while
Temporal was down (once each)."""

import asyncio
import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async as sync
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError

from temporal_app.core.tasks import START_ENQUEUED_TASKS
from temporal_app.core.worker import create_worker
from temporal_app.schedules import RECONCILE_ONBOARDING
from temporal_app.workflows import ReconcileOnboardingInput, ReconcileOnboardingWorkflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def temporal(temporal, settings, task_queue):
    """conftest's `temporal`, signups starting onboarding; the schedules and
    workflows the test leaves are removed."""
    client = temporal
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = True
    yield client
    async for listed in await client.list_schedules():
        await client.get_schedule_handle(listed.id).delete()
    async for execution in client.list_workflows(
        f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    ):
        await client.get_workflow_handle(execution.id).terminate()


def sync_schedules(*options: str) -> str:
    out = StringIO()
    call_command("sync_temporal_schedules", *options, stdout=out)
    return out.getvalue()


async def schedules_listed(client: Client, test) -> bool:
    """Whether the ids of the listed schedules pass `test`."""
    return test({listed.id async for listed in await client.list_schedules()})


async def eventually(condition, timeout: float = 15) -> None:
    """Wait for an async condition (e.g. the eventually consistent schedule list)."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.2)


async def test_dry_run_prints_the_plan_and_changes_nothing(temporal):
    output = await sync(sync_schedules)("--dry-run")

    assert output == (
        f"{RECONCILE_ONBOARDING}: would be created\n"
        f"{START_ENQUEUED_TASKS}: would be created\n"
    )
    with pytest.raises(RPCError):
        await temporal.get_schedule_handle(RECONCILE_ONBOARDING).describe()


async def test_sync_fails_clearly_when_temporal_is_down(
    settings, refusing, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)
    settings.TEMPORAL_CONNECT_TIMEOUT_SECONDS = 1

    with pytest.raises(CommandError, match=f"Temporal at {refusing} did not answer"):
        await sync(sync_schedules)()


async def test_sync_creates_the_declared_schedules_and_then_changes_nothing(
    temporal, settings
):
    first = await sync(sync_schedules)()
    again = await sync(sync_schedules)()

    assert first == (
        f"{RECONCILE_ONBOARDING}: created\n{START_ENQUEUED_TASKS}: created\n"
    )
    assert again == (
        f"{RECONCILE_ONBOARDING}: unchanged\n{START_ENQUEUED_TASKS}: unchanged\n"
    )
    description = await temporal.get_schedule_handle(RECONCILE_ONBOARDING).describe()
    assert description.schedule.spec.intervals[0].every == timedelta(minutes=5)
    assert description.schedule.action.task_queue == settings.TEMPORAL_TASK_QUEUE


async def test_sync_updates_a_changed_schedule_and_keeps_an_operators_pause(
    temporal, settings
):
    await sync(sync_schedules)()
    handle = temporal.get_schedule_handle(RECONCILE_ONBOARDING)
    await handle.pause(note="paused by an operator")
    settings.TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS = 60

    output = await sync(sync_schedules)()

    assert output == (
        f"{RECONCILE_ONBOARDING}: updated\n{START_ENQUEUED_TASKS}: unchanged\n"
    )
    description = await handle.describe()
    assert description.schedule.spec.intervals[0].every == timedelta(minutes=1)
    assert description.schedule.state.paused
    assert await sync(sync_schedules)() == (
        f"{RECONCILE_ONBOARDING}: unchanged\n{START_ENQUEUED_TASKS}: unchanged\n"
    )


async def test_sync_deletes_only_the_schedules_it_created(temporal, settings):
    await sync(sync_schedules)()
    await temporal.create_schedule(
        "made-by-hand",
        Schedule(
            action=ScheduleActionStartWorkflow(
                "reconcile_onboarding",
                ReconcileOnboardingInput(),
                id="made-by-hand",
                task_queue=settings.TEMPORAL_TASK_QUEUE,
            ),
            spec=ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]
            ),
        ),
    )
    both = {RECONCILE_ONBOARDING, "made-by-hand"}
    await eventually(lambda: schedules_listed(temporal, lambda ids: both <= ids))
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = False  # no longer declared

    output = await sync(sync_schedules)()

    assert output == (
        f"{START_ENQUEUED_TASKS}: unchanged\n{RECONCILE_ONBOARDING}: deleted\n"
    )
    await eventually(
        lambda: schedules_listed(
            temporal, lambda ids: ids == {"made-by-hand", START_ENQUEUED_TASKS}
        )
    )


async def test_reconcile_pages_through_the_users_who_need_onboarding(
    temporal, django_user_model, task_queue, settings
):
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = False  # no start on signup
    need = await django_user_model.objects.abulk_create(
        django_user_model(username=f"user{i}", email=f"user{i}@example.com")
        for i in range(5)
    )
    await django_user_model.objects.abulk_create(
        [
            django_user_model(username="no-email"),
            django_user_model(username="inactive", email="i@x.org", is_active=False),
        ]
    )
    small_pages = ReconcileOnboardingInput(page_size=2, pages_per_run=2)

    async with create_worker(temporal, task_queue=task_queue):
        first, second = [
            await temporal.execute_workflow(
                ReconcileOnboardingWorkflow.run,
                small_pages,
                id=f"reconcile-{n}-{task_queue}",
                task_queue=task_queue,
                execution_timeout=timedelta(minutes=1),
            )
            for n in (1, 2)
        ]

    # Pages of 2, 2 and 1 user, over two runs.
    assert first == {"status": "completed", "checked": 5, "started": 5}
    # The second run finds them onboarding (or onboarded): it starts none.
    assert second["started"] == 0
    for user in need:  # each has its onboarding workflow
        handle = temporal.get_workflow_handle(f"onboarding-{user.pk}")
        assert (await handle.describe()).id == f"onboarding-{user.pk}"


def sign_up(django_user_model, username: str) -> float:
    """Create a user as a signup view does (inside a transaction, onboarding
    started on commit); return how long it took."""
    began = time.monotonic()
    with transaction.atomic():
        django_user_model.objects.create_user(
            username=username, email=f"{username}@example.com"
        )
    return time.monotonic() - began


async def test_users_who_signed_up_while_temporal_was_down_are_onboarded_once_it_is_back(
    temporal,
    settings,
    django_user_model,
    task_queue,
    black_hole,
    refusing,
    caplog,
    monkeypatch,
):
    # The project's defaults (the test settings raise them).
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = 0.4
    address = os.environ["TEMPORAL_ADDRESS"]
    durations = {}
    for outage, where in [("no-answer", black_hole), ("refused", refusing)]:
        monkeypatch.setenv("TEMPORAL_ADDRESS", where)
        for n in range(2):
            username = f"{outage}-{n}"
            durations[username] = await sync(sign_up)(django_user_model, username)

    # Each signup returned at once, and said so once in the log.
    assert all(seconds < 1 for seconds in durations.values()), durations
    not_started = [r for r in caplog.records if "not started" in r.getMessage()]
    assert len(not_started) == 4
    users = [user async for user in django_user_model.objects.order_by("pk")]
    assert [record.getMessage().split(" not started")[0] for record in not_started] == [
        f"Onboarding of user {user.pk}" for user in users
    ]

    monkeypatch.setenv("TEMPORAL_ADDRESS", address)  # Temporal is back
    await sync(sync_schedules)()
    schedule = temporal.get_schedule_handle(RECONCILE_ONBOARDING)
    async with create_worker(temporal, task_queue=task_queue):
        await schedule.trigger()
        await eventually(lambda: _welcomed(len(users)), timeout=30)
        await schedule.trigger()  # a second run finds nothing to do
        await eventually(lambda: _reconcile_runs_completed(schedule, 2), timeout=30)

    welcomes = sorted(m.to[0] for m in mail.outbox if m.subject == "Welcome!")
    assert welcomes == sorted(user.email for user in users)
    for user in users:
        handle = temporal.get_workflow_handle(f"onboarding-{user.pk}")
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def _welcomed(count: int) -> bool:
    return sum(m.subject == "Welcome!" for m in mail.outbox) >= count


async def _reconcile_runs_completed(schedule, count: int) -> bool:
    info = (await schedule.describe()).info
    return info.num_actions >= count and not info.running_actions
