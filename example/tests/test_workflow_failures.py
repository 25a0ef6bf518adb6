"""The example workflows when things fail, on Temporal's time-skipping test
server: a database outage ridden out or outlasting its deadline, a bug in a
batch's chunk handling, bad input, payload sizes, heartbeat timeouts, a
range that fails for good, a batch cancelled."""

import asyncio
from datetime import timedelta

import pytest
from django.db import OperationalError
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    RetryState,
)

from django_temporal_bridge.worker import create_worker
from temporal_app.activities import (
    EmailPayload,
    UserChunkPayload,
    UserProcessingPayload,
    UserRangePayload,
    UserRangesPayload,
    fetch_user_ids_activity,
    plan_user_ranges_activity,
)
from temporal_app.tests.test_workflows import batch_input
from temporal_app.workflows import (
    DATABASE_DEADLINE,
    BatchProcessingWorkflow,
    OnboardingWorkflowInput,
    UserOnboardingWorkflow,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def users(django_user_model):
    """1,200 users, created in bulk."""
    return django_user_model.objects.bulk_create(
        django_user_model(username=f"user{i}") for i in range(1200)
    )


async def wait_for_events(
    handle: WorkflowHandle, event_type: EventType.ValueType, count: int = 1
) -> list[EventType.ValueType]:
    """The types of the workflow's history events, once it holds `count`
    events of `event_type` or the workflow has closed."""
    async with asyncio.timeout(10):
        while True:
            types = [event.event_type async for event in handle.fetch_history_events()]
            closed = (await handle.describe()).status != WorkflowExecutionStatus.RUNNING
            if types.count(event_type) >= count or closed:
                return types
            await asyncio.sleep(0.1)


def database_down_for(outage: timedelta):
    """A fake process_user_activity that fails as a database outage would,
    until `outage` has passed since its first attempt; it lists when each
    attempt came, counted from the first."""
    attempts = []

    @activity.defn(name="process_user_activity")
    async def process_user(payload: UserProcessingPayload) -> dict:
        info = activity.info()
        attempts.append(info.current_attempt_scheduled_time - info.scheduled_time)
        if attempts[-1] < outage:
            raise OperationalError("connection to server failed: Connection refused")
        return {"status": "processed"}

    return process_user, attempts


@activity.defn(name="send_email_activity")
async def send_email(payload: EmailPayload) -> dict:
    return {"status": "sent"}


async def test_onboarding_rides_out_a_database_outage_of_minutes(
    time_skipping_env, task_queue
):
    process_user, attempts = database_down_for(timedelta(minutes=10))
    client = time_skipping_env.client
    async with create_worker(
        client, task_queue=task_queue, activities=[process_user, send_email]
    ):
        result = await client.execute_workflow(
            UserOnboardingWorkflow.run,
            OnboardingWorkflowInput(user_id=7, email="g@example.com", name="Grace"),
            id=f"onboarding-7-{task_queue}",
            task_queue=task_queue,
        )

    assert result["status"] == "completed"
    assert len(attempts) > 10  # more than the retry policies once allowed


async def test_onboarding_fails_with_a_timeout_when_the_outage_outlasts_the_deadline(
    time_skipping_env, task_queue
):
    process_user, attempts = database_down_for(DATABASE_DEADLINE + timedelta(hours=1))
    client = time_skipping_env.client
    async with create_worker(
        client, task_queue=task_queue, activities=[process_user, send_email]
    ):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(
                UserOnboardingWorkflow.run,
                OnboardingWorkflowInput(user_id=7, email="g@example.com", name="Grace"),
                id=f"onboarding-7-{task_queue}",
                task_queue=task_queue,
            )

    error = raised.value.cause
    assert isinstance(error, ActivityError)
    assert error.retry_state == RetryState.TIMEOUT
    # It retried until its deadline, then gave up for good.
    assert DATABASE_DEADLINE - timedelta(minutes=2) < attempts[-1] <= DATABASE_DEADLINE


@pytest.mark.integration
async def test_a_bug_in_chunk_handling_fails_the_workflow_task_and_the_batch_waits(
    dev_server, task_queue
):
    """A chunk result without `failed_ids` stands for any bug: the batch
    neither completes nor loses the error; it waits, visibly, for a fix.
    On the dev server: the time-skipping server stops skipping time for the
    tests after a workflow whose task kept failing."""

    @activity.defn(name="process_user_chunk_activity")
    async def process_chunk_without_failed_ids(payload: UserChunkPayload) -> dict:
        return {"processed": len(payload.user_ids)}

    client = dev_server.client
    async with create_worker(
        client, task_queue=task_queue, activities=[process_chunk_without_failed_ids]
    ):
        handle = await client.start_workflow(
            BatchProcessingWorkflow.run,
            batch_input(user_ids=[1, 2, 3]),
            id=f"batch-bug-{task_queue}",
            task_queue=task_queue,
        )
        events = await wait_for_events(
            handle, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        )

        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in events
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("the test is over")


async def test_a_batch_with_an_unknown_action_fails_instead_of_completing(
    time_skipping_env, task_queue, user
):
    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(
                BatchProcessingWorkflow.run,
                batch_input(selection="all", action="no_such_action"),
                id=f"batch-unknown-action-{task_queue}",
                task_queue=task_queue,
            )

    cause = raised.value.cause.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "UnknownAction"


async def test_chunks_of_ids_stay_below_the_payload_warning_whatever_the_chunk_size(
    time_skipping_env, task_queue
):
    total = 60_000
    chunk_sizes = []

    @activity.defn(name="process_user_chunk_activity")
    async def process_chunk(payload: UserChunkPayload) -> dict:
        chunk_sizes.append(len(payload.user_ids))
        return {"processed": len(payload.user_ids), "failed_ids": []}

    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue, activities=[process_chunk]):
        result = await client.execute_workflow(
            BatchProcessingWorkflow.run,
            batch_input(chunk_size=10**6, user_ids=list(range(1, total + 1))),
            id=f"batch-huge-chunks-{task_queue}",
            task_queue=task_queue,
        )

    assert result["processed"] == total
    assert sorted(chunk_sizes) == [10_000, 25_000, 25_000]


async def test_every_run_of_a_batch_gives_its_chunks_the_batchs_heartbeat_timeout(
    time_skipping_env, task_queue
):
    """How soon a dead worker's chunk goes to another worker is the batch's
    to say, in every run (continue-as-new carries it)."""
    timeouts = []

    @activity.defn(name="plan_user_ranges_activity")
    async def plan_ranges(payload: UserRangesPayload) -> list[dict]:
        ends = range(payload.after_id + payload.size, 601, payload.size)
        return [
            {"after_id": end - payload.size, "last_id": end, "size": payload.size}
            for end in ends
        ]

    @activity.defn(name="process_user_range_activity")
    async def process_range(payload: UserRangePayload) -> dict:
        timeouts.append(activity.info().heartbeat_timeout)
        return {"processed": payload.last_id - payload.after_id}

    client = time_skipping_env.client
    async with create_worker(
        client, task_queue=task_queue, activities=[plan_ranges, process_range]
    ):
        result = await client.execute_workflow(
            BatchProcessingWorkflow.run,
            batch_input(selection="all", chunks_per_run=2, heartbeat_timeout_seconds=7),
            id=f"batch-heartbeat-timeout-{task_queue}",
            task_queue=task_queue,
        )

    assert (result["processed"], result["runs"]) == (600, 3)
    assert timeouts == [timedelta(seconds=7)] * 6


async def test_a_range_that_fails_for_good_lists_its_users_as_failed(
    time_skipping_env, task_queue, users
):
    ids = [user.pk for user in users]
    broken = (ids[299], ids[399])  # the fourth range of 100 users

    @activity.defn(name="process_user_range_activity")
    async def process_range(payload: UserRangePayload) -> dict:
        if (payload.after_id, payload.last_id) == broken:
            raise ApplicationError("the disk is full", non_retryable=True)
        return {"processed": 100}

    client = time_skipping_env.client
    activities = [plan_user_ranges_activity, fetch_user_ids_activity, process_range]
    async with create_worker(client, task_queue=task_queue, activities=activities):
        result = await client.execute_workflow(
            BatchProcessingWorkflow.run,
            batch_input(selection="all"),
            id=f"batch-broken-range-{task_queue}",
            task_queue=task_queue,
        )

    assert result["processed"] == 1100
    assert result["failed_count"] == 100
    assert result["failed_ids"] == ids[300:400]


@pytest.mark.integration
async def test_cancelling_a_batch_cancels_its_chunks_and_counts_no_user_as_failed(
    dev_server, task_queue
):
    """On a real dev server: the time-skipping server would skip ahead to the
    activities' timeouts while they run."""
    started, cancelled = [], []
    cancel_requested = asyncio.Event()

    @activity.defn(name="process_user_chunk_activity")
    async def process_chunk_until_cancelled(payload: UserChunkPayload) -> dict:
        started.append(payload.user_ids)
        # A heartbeat's reply carries the cancellation. The first heartbeat
        # goes out at once (later ones are throttled), so send it only once
        # the cancellation is requested.
        await cancel_requested.wait()
        try:
            while True:
                activity.heartbeat()
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            cancelled.append(payload.user_ids)
            raise

    client = dev_server.client
    async with create_worker(
        client, task_queue=task_queue, activities=[process_chunk_until_cancelled]
    ):
        handle = await client.start_workflow(
            BatchProcessingWorkflow.run,
            batch_input(user_ids=[1, 2, 3, 4, 5, 6], chunk_size=2),
            id=f"batch-cancel-{task_queue}",
            task_queue=task_queue,
        )
        async with asyncio.timeout(10):
            while len(started) < 3:
                await asyncio.sleep(0.05)
        await handle.cancel()
        events = await wait_for_events(
            handle, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, count=3
        )
        cancel_requested.set()
        with pytest.raises(WorkflowFailureError) as raised:
            async with asyncio.timeout(10):
                await handle.result()
        stopped_before_the_end = sorted(cancelled)
        progress = await handle.query(BatchProcessingWorkflow.progress)

    assert events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED) == 3
    assert isinstance(raised.value.cause, CancelledError)
    assert stopped_before_the_end == [[1, 2], [3, 4], [5, 6]]
    assert progress == {"processed": 0, "failed_count": 0}
