"""Schedules declared in code, against a real Temporal dev server: what
`sync_temporal_schedules` creates, updates, deletes and leaves alone, found
in every installed app; declarations refused where they are made; a
scheduled batch's id; and the reconcile-onboarding schedule, which onboards the users who signed up while
Temporal was down (once each)."""

import asyncio
import dataclasses
import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import sync_to_async as sync
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import transaction
from django.tasks import task
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    ScheduleSpec,
    WorkflowExecutionStatus,
)
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.service import RPCError, RPCStatusCode

from django_temporal_bridge.encryption import generate_key
from django_temporal_bridge.schedules import (
    DeclaredSchedule,
    InvalidScheduleError,
    apply,
    plan,
)
from django_temporal_bridge.tasks import START_ENQUEUED_TASKS
from django_temporal_bridge.testing import installed_app
from django_temporal_bridge.worker import create_worker
from temporal_app.models import EmailDelivery
from temporal_app.schedules import (
    NIGHTLY_USER_BATCH,
    PURGE_EMAIL_DELIVERIES,
    RECONCILE_ONBOARDING,
)
from temporal_app.tasks import purge_email_deliveries
from temporal_app.workflows import ReconcileOnboardingInput, ReconcileOnboardingWorkflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def temporal(temporal, settings, task_queue):
    """conftest's `temporal`, signups starting onboarding; the schedules and
    workflows the test leaves are removed."""
    client = temporal
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = True
    yield client
    # Listings are eventually consistent: a schedule deleted a moment ago is
    # still listed, a run that completed is still listed as running. Both
    # answer NOT_FOUND ("already completed"): already gone is fine.
    async for listed in await client.list_schedules():
        await gone_is_fine(client.get_schedule_handle(listed.id).delete())
    async for execution in client.list_workflows(
        f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    ):
        await gone_is_fine(client.get_workflow_handle(execution.id).terminate())


async def gone_is_fine(removal) -> None:
    try:
        await removal
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


def sync_schedules(*options: str) -> str:
    out = StringIO()
    call_command("sync_temporal_schedules", *options, stdout=out)
    return out.getvalue()


async def schedules_listed(client: Client, test) -> bool:
    """Whether the ids of the listed schedules pass `test`."""
    return test({listed.id async for listed in await client.list_schedules()})


async def workflows_listed(client: Client, query: str, test) -> bool:
    """Whether the ids of the workflows that `query` lists pass `test`."""
    return test([execution.id async for execution in client.list_workflows(query)])


async def eventually(condition, timeout: float = 15) -> None:
    """Wait for an async condition (e.g. the eventually consistent schedule list)."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.2)


# Another app's schedules.py, beside the code it runs.
REPORTS_APP = {
    "__init__.py": "",
    "schedules.py": """
from datetime import timedelta

from temporalio.client import ScheduleOverlapPolicy

from django_temporal_bridge.schedules import DeclaredSchedule


def declared_schedules():
    return [
        DeclaredSchedule(
            id="weekly-report",
            workflow="weekly_report",
            arg=None,
            cron="30 6 * * mon",
            description="Mails the weekly report.",
            overlap=ScheduleOverlapPolicy.BUFFER_ONE,
            catchup_window=timedelta(days=1),
        )
    ]
""",
}

RECONCILE = "reconcile-onboarding: {} (every 5 min; starts reconcile_onboarding)\n"
START_TASKS = "start-enqueued-tasks: {} (every 1 min; starts start_enqueued_tasks)\n"
PURGE = (
    'purge-email-deliveries: {} (cron "0 4 * * *" Europe/Berlin; '
    "starts task temporal_app.tasks.purge_email_deliveries)\n"
)
NIGHTLY = (
    'nightly-user-batch: {} (cron "0 3 * * *" Europe/Berlin, paused; '
    "starts batch_processing)\n"
)


def declared(state: str) -> str:
    """The sync's output for the outbox's and the example's schedules, all
    in one state."""
    return "".join(
        line.format(state) for line in (START_TASKS, RECONCILE, PURGE, NIGHTLY)
    )


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


async def test_dry_run_lists_every_declared_schedule_and_changes_nothing(
    temporal, berlin, tmp_path
):
    with installed_app(tmp_path, "reports", REPORTS_APP):
        output = await sync(sync_schedules)("--dry-run")

    assert output == (
        declared("would be created")
        + 'weekly-report: would be created (cron "30 6 * * mon" Europe/Berlin; '
        "starts weekly_report)\n"
    )
    for schedule_id in (RECONCILE_ONBOARDING, NIGHTLY_USER_BATCH, "weekly-report"):
        with pytest.raises(RPCError, match="not found"):
            await temporal.get_schedule_handle(schedule_id).describe()


async def test_sync_fails_clearly_when_temporal_is_down(
    settings, refusing, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)
    settings.TEMPORAL_CONNECT_TIMEOUT_SECONDS = 1

    with pytest.raises(CommandError, match=f"Temporal at {refusing} did not answer"):
        await sync(sync_schedules)()


async def test_sync_creates_the_declared_schedules_and_then_changes_nothing(
    temporal, settings, berlin
):
    first = await sync(sync_schedules)()
    again = await sync(sync_schedules)()

    assert first == declared("created")
    assert again == declared("unchanged")
    reconcile = await temporal.get_schedule_handle(RECONCILE_ONBOARDING).describe()
    assert reconcile.schedule.spec.intervals[0].every == timedelta(minutes=5)
    assert reconcile.schedule.action.task_queue == settings.TEMPORAL_TASK_QUEUE
    assert not reconcile.schedule.state.paused
    nightly = (
        await temporal.get_schedule_handle(NIGHTLY_USER_BATCH).describe()
    ).schedule
    assert nightly.state.paused  # declared paused
    assert nightly.spec.time_zone_name == "Europe/Berlin"
    assert [(c.hour[0].start, c.minute[0].start) for c in nightly.spec.calendars] == [
        (3, 0)
    ]  # the server reads cron as calendars
    assert nightly.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert nightly.policy.catchup_window == timedelta(hours=6)
    assert nightly.action.workflow == "batch_processing"
    purge = await temporal.get_schedule_handle(PURGE_EMAIL_DELIVERIES).describe()
    assert purge.schedule.action.workflow == "django_task"  # a @task's workflow
    assert purge.schedule.action.task_queue == settings.TEMPORAL_TASK_QUEUE


async def test_sync_updates_changed_schedules_and_keeps_the_operators_pause(
    temporal, settings, berlin
):
    await sync(sync_schedules)()
    reconcile = temporal.get_schedule_handle(RECONCILE_ONBOARDING)
    nightly = temporal.get_schedule_handle(NIGHTLY_USER_BATCH)
    await reconcile.pause(note="paused by an operator")
    await nightly.unpause(note="turned on by an operator")
    settings.TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS = 60
    settings.TIME_ZONE = "America/New_York"

    output = await sync(sync_schedules)()

    assert output.splitlines() == [
        "start-enqueued-tasks: unchanged (every 1 min; starts start_enqueued_tasks)",
        "reconcile-onboarding: updated (every 1 min; starts reconcile_onboarding)",
        'purge-email-deliveries: updated (cron "0 4 * * *" America/New_York; '
        "starts task temporal_app.tasks.purge_email_deliveries)",
        'nightly-user-batch: updated (cron "0 3 * * *" America/New_York, paused; '
        "starts batch_processing)",
    ]
    reconciling = (await reconcile.describe()).schedule
    assert reconciling.spec.intervals[0].every == timedelta(minutes=1)
    assert reconciling.state.paused  # as the operator left them
    nightly_batch = (await nightly.describe()).schedule
    assert nightly_batch.spec.time_zone_name == "America/New_York"
    assert not nightly_batch.state.paused
    again = await sync(sync_schedules)()
    assert [line.split(" (")[0] for line in again.splitlines()] == [
        "start-enqueued-tasks: unchanged",
        "reconcile-onboarding: unchanged",
        "purge-email-deliveries: unchanged",
        "nightly-user-batch: unchanged",
    ]


async def test_sync_deletes_only_the_schedules_it_created(temporal, settings, berlin):
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
    all_three = {RECONCILE_ONBOARDING, NIGHTLY_USER_BATCH, "made-by-hand"}
    await eventually(lambda: schedules_listed(temporal, lambda ids: all_three <= ids))
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = False  # no longer declared

    output = await sync(sync_schedules)()

    assert output == (
        START_TASKS.format("unchanged")
        + PURGE.format("unchanged")
        + NIGHTLY.format("unchanged")
        + f"{RECONCILE_ONBOARDING}: deleted\n"
    )
    left = {START_ENQUEUED_TASKS, PURGE_EMAIL_DELIVERIES, NIGHTLY_USER_BATCH}
    await eventually(
        lambda: schedules_listed(temporal, lambda ids: ids == left | {"made-by-hand"})
    )


async def test_two_syncs_at_once_both_succeed(temporal, settings, berlin):
    """Two deploys sync at once: what one planned, the other may have done
    first (a schedule created, or deleted) by the time it applies."""
    creating = await plan(temporal)  # every declared schedule: to create
    await sync(sync_schedules)()  # the other sync gets there first
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = False  # reconcile: undeclared
    await eventually(
        lambda: schedules_listed(temporal, lambda ids: RECONCILE_ONBOARDING in ids)
    )
    deleting = await plan(temporal)
    await temporal.get_schedule_handle(RECONCILE_ONBOARDING).delete()

    await apply(temporal, creating)
    await apply(temporal, deleting)

    assert {change.action for change in creating} == {"create"}
    assert ("delete", RECONCILE_ONBOARDING) in {
        (change.action, change.schedule_id) for change in deleting
    }


class Opaque(PayloadCodec):
    """Another deployment's codec: payloads this project cannot read."""

    async def encode(self, payloads):
        return [
            Payload(metadata={"encoding": b"binary/opaque"}, data=p.SerializeToString())
            for p in payloads
        ]

    async def decode(self, payloads):
        return list(payloads)


async def test_a_foreign_schedule_whose_memo_is_unreadable_is_left_alone(
    temporal, settings, berlin
):
    foreign = Client(
        temporal.service_client,
        namespace=temporal.namespace,
        data_converter=dataclasses.replace(
            DataConverter.default, payload_codec=Opaque()
        ),
    )
    await foreign.create_schedule(
        "theirs",
        Schedule(
            action=ScheduleActionStartWorkflow(
                "report", id="theirs", task_queue=settings.TEMPORAL_TASK_QUEUE
            ),
            spec=ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]
            ),
        ),
        memo={"owner": "another team"},
    )
    await eventually(lambda: schedules_listed(temporal, lambda ids: "theirs" in ids))

    output = await sync(sync_schedules)()

    assert "theirs" not in output
    await temporal.get_schedule_handle("theirs").describe()  # still there


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 25 * * *", "hour '25' is not in 0-23"),
        ("0 3 * *", "4 fields, expected 5"),
        ("*/0 * * * *", "minute '*/0' has a step of 0"),
        ("0 3 * * someday", "day of week 'someday' is not in 0-7"),
        ("0 3 ? * *", "day of month '?' is not *, N, N-M"),
    ],
)
def test_a_bad_cron_is_refused_where_it_is_declared(cron, problem):
    with pytest.raises(InvalidScheduleError) as refused:
        DeclaredSchedule(
            id="nightly", workflow="w", cron=cron, description="A nightly job."
        )

    assert str(refused.value).startswith(f"Schedule 'nightly': cron \"{cron}\": ")
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    "cron", ["0 3 * * *", "*/15 8-18 * * mon-fri", "0 0 1,15 jan-jun 0", "@daily"]
)
def test_a_good_cron_is_accepted(cron):
    assert DeclaredSchedule(id="j", workflow="w", cron=cron, description="J.").cron


def test_sync_names_a_bad_declaration_of_another_app_before_connecting(tmp_path):
    bad = REPORTS_APP["schedules.py"].replace("30 6 * * mon", "30 6 * * funday")

    with (
        installed_app(tmp_path, "reports", {"__init__.py": "", "schedules.py": bad}),
        pytest.raises(CommandError, match="Schedule 'weekly-report': cron"),
    ):
        sync_schedules("--dry-run")


def test_manage_py_check_names_a_bad_declaration(tmp_path):
    bad = REPORTS_APP["schedules.py"].replace("30 6 * * mon", "30 6 * * funday")

    with (
        installed_app(tmp_path, "reports", {"__init__.py": "", "schedules.py": bad}),
        pytest.raises(
            SystemCheckError, match=r"django_temporal_bridge\.E025.*weekly-report"
        ),
    ):
        call_command("check")


def test_a_declaration_says_when_and_what_exactly_once_within_temporals_limits():
    with pytest.raises(InvalidScheduleError, match=r"either every= .* or cron="):
        DeclaredSchedule(id="j", workflow="w", description="J.")
    with pytest.raises(InvalidScheduleError, match=r"either workflow= .* or task="):
        DeclaredSchedule(id="j", every=timedelta(hours=1), description="J.")
    with pytest.raises(InvalidScheduleError, match="catchup_window=0:00:01 is under"):
        DeclaredSchedule(
            id="j",
            workflow="w",
            every=timedelta(hours=1),
            catchup_window=timedelta(seconds=1),
            description="J.",
        )


@task
def purge_old_rows(days: int) -> None:
    """A task to declare schedules of (never run here)."""


# A value of every declared field but the id, differing from DECLARED's.
CHANGES = {
    "description": "K.",
    "every": timedelta(hours=1),
    "cron": "0 4 * * *",
    "workflow": "v",
    "arg": {"n": 1},
    "task": purge_old_rows,
    "args": (1,),
    "kwargs": {"days": 1},
    "workflow_id": "k",
    "overlap": ScheduleOverlapPolicy.BUFFER_ONE,
    "catchup_window": timedelta(minutes=5),
    "paused": False,
}
DECLARED = {"id": "j", "workflow": "w", "cron": "0 3 * * *", "description": "J."}


def test_the_fingerprint_covers_every_declared_field(settings):
    declared = DeclaredSchedule(**DECLARED, paused=True)
    # Each change, with what a valid declaration needs beside it.
    needs = {"every": {"cron": ""}, "task": {"workflow": ""}}
    needs |= {"args": {"workflow": "", "task": purge_old_rows}}
    needs |= {"kwargs": needs["args"]}
    fingerprints = {declared.fingerprint()}
    for name, value in CHANGES.items():
        changed = dataclasses.replace(declared, **{name: value, **needs.get(name, {})})
        fingerprints.add(changed.fingerprint())
    settings.TIME_ZONE = "Asia/Tokyo"  # what a cron is read in
    fingerprints.add(declared.fingerprint())
    # The key its arguments are encrypted with (a rotation rewrites them).
    settings.TEMPORAL_PAYLOAD_KEYS = f"a:{generate_key()},b:{generate_key()}"
    fingerprints.add(declared.fingerprint())
    settings.TEMPORAL_PAYLOAD_KEY_ID = "b"
    fingerprints.add(declared.fingerprint())

    assert len(fingerprints) == len(CHANGES) + 4
    # A field added to DeclaredSchedule needs a change here.
    fields = {field.name for field in dataclasses.fields(DeclaredSchedule)}
    assert fields == {"id", *CHANGES}


def test_a_task_is_declared_with_json_arguments():
    declared = DeclaredSchedule(
        id="purge",
        task=purge_old_rows,
        args=(30,),
        every=timedelta(days=1),
        description="Purges old rows.",
    )

    assert declared.summary() == (f"every 1 d; starts task {__name__}.purge_old_rows")
    assert dataclasses.replace(declared, args=(31,)).fingerprint() != (
        declared.fingerprint()
    )
    with pytest.raises(InvalidScheduleError, match="'purge': the task's arguments"):
        dataclasses.replace(declared, args=(object(),))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"queue_name": "reports"}, id="queue"),
        pytest.param({"MAX_ATTEMPTS": 7}, id="attempts"),
        pytest.param({"TIMEOUT_SECONDS": 60}, id="timeout"),
    ],
)
def test_the_fingerprint_covers_what_a_task_schedule_dispatches(settings, change):
    """The task's queue, and the backend's OPTIONS that each run's input
    carries: the sync must update the schedule when one changes."""
    settings.TASKS = {
        "default": {
            **settings.TASKS["default"],
            "QUEUES": ["default", "reports"],
        }
    }
    declared = DeclaredSchedule(
        id="purge", task=purge_old_rows, every=timedelta(days=1), description="."
    )
    before = declared.fingerprint()
    if "queue_name" in change:
        declared = dataclasses.replace(declared, task=purge_old_rows.using(**change))
    else:
        settings.TASKS = {
            "default": {
                **settings.TASKS["default"],
                "OPTIONS": {**settings.TASKS["default"]["OPTIONS"], **change},
            }
        }

    assert declared.fingerprint() != before


async def test_a_scheduled_batch_is_named_after_its_run(
    temporal, task_queue, django_user_model
):
    await django_user_model.objects.acreate(username="night-owl")
    await sync(sync_schedules)()
    schedule = temporal.get_schedule_handle(NIGHTLY_USER_BATCH)

    async with create_worker(temporal, task_queue=task_queue):
        await schedule.trigger()  # as at 03:00 (a paused schedule can be triggered)
        await eventually(lambda: _actions_taken(schedule, 1))
        run = (await schedule.describe()).info.recent_actions[0].action
        async with asyncio.timeout(15):
            result = await temporal.get_workflow_handle(run.workflow_id).result()

    # batch-nightly-<the run's time>, as the starters' batch-<batch_id>.
    assert run.workflow_id.startswith("batch-nightly-20")
    assert result["batch_id"] == run.workflow_id.removeprefix("batch-")
    assert result["processed"] == 1
    # The run carries its BatchId, as a batch started from Django does.
    query = f"BatchId = '{result['batch_id']}'"
    await eventually(
        lambda: workflows_listed(temporal, query, lambda ids: ids == [run.workflow_id])
    )


async def test_a_scheduled_task_runs_as_if_enqueued(temporal, task_queue):
    old = await EmailDelivery.objects.acreate(to="a@example.com", idempotency_key="old")
    await EmailDelivery.objects.filter(pk=old.pk).aupdate(
        claimed_at=old.claimed_at - timedelta(days=31)
    )
    await EmailDelivery.objects.acreate(to="b@example.com", idempotency_key="new")
    await sync(sync_schedules)()
    schedule = temporal.get_schedule_handle(PURGE_EMAIL_DELIVERIES)

    async with create_worker(temporal, task_queue=task_queue):
        await schedule.trigger()  # as at 04:00
        await eventually(lambda: _actions_taken(schedule, 1))
        run = (await schedule.describe()).info.recent_actions[0].action
        async with asyncio.timeout(15):
            await temporal.get_workflow_handle(run.workflow_id).result()

    # Its result reads back as an enqueued task's, under the run's id.
    result = await purge_email_deliveries.aget_result(run.workflow_id)
    assert run.workflow_id.startswith(f"{PURGE_EMAIL_DELIVERIES}-20")
    assert result.return_value == {"deleted": 1}
    assert result.enqueued_at is not None
    assert [d.idempotency_key async for d in EmailDelivery.objects.all()] == ["new"]


async def _actions_taken(schedule, count: int) -> bool:
    return (await schedule.describe()).info.num_actions >= count


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
