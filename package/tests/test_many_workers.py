"""Many workers, one task queue: three real worker processes share a batch
of 100,000 users on the session's `temporal server start-dev`, one of them
is killed (SIGKILL) in the middle of a range of users, and the batch still
ends with every user processed once, by the count and in the database."""

import asyncio
import signal
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone
from temporalio.api.enums.v1 import EventType, PendingActivityState, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowHandle

from apps.users.models import User
from django_temporal_bridge.testing import Worker
from temporal_app.activities import UserRangePayload
from temporal_app.workflows import BatchProcessingWorkflow, BatchProcessingWorkflowInput

pytestmark = [
    pytest.mark.integration,
    pytest.mark.resilience,
    pytest.mark.django_db(transaction=True),
    # Three workers start at once: on a loaded 2-core machine that alone
    # took up to 40 s.
    pytest.mark.timeout(300),
]

USERS = 100_000
WORKERS = 3
# Ranges of 10,000 users, four bulk updates each (activities.RANGE_SLICE), a
# range per worker at a time (each worker runs one activity at once), so
# that every worker takes a share. A chunk without a heartbeat for 5 s goes
# to another worker: the dead worker's range is retried within seconds.
BATCH = {
    "selection": "all",
    "action": "onboard",
    "chunk_size": 10_000,
    "max_concurrent_chunks": WORKERS,
    "heartbeat_timeout_seconds": 5,
}
WORKER_SETTINGS = {
    "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES": "1",
    # The batch's next workflow task waits on the dead worker's own queue
    # until Temporal gives that queue up: after 1 s here (10 s by default).
    "TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS": "1",
}


@pytest.fixture
def users() -> None:
    """USERS users, made by the database with one INSERT ... SELECT:
    bulk_create took 14 s to build the SQL of 100,000 model instances on a
    loaded 2-core machine."""
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (username, password, first_name, last_name,"
            " email, is_superuser, is_staff, is_active, date_joined)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
            " WHERE i < %s) SELECT 'user-' || i, '', '', '', '', %s, %s, %s, %s"
            " FROM n",
            [USERS, False, False, True, timezone.now()],
        )


@dataclass
class RangeInFlight:
    """A range of the batch that a worker has started and not finished."""

    activity_id: str
    worker: str  # the worker's identity
    payload: UserRangePayload
    heartbeat_after_id: int  # where a retry resumes


async def test_three_workers_share_a_batch_and_a_killed_workers_range_is_retried(
    dev_server, task_queue, tmp_path, users
):
    client = dev_server.client
    address = client.service_client.config.target_host
    with ExitStack() as stack:
        workers = {}
        for _ in range(WORKERS):
            worker = Worker(
                tmp_path,
                address=address,
                namespace=client.namespace,
                task_queue=task_queue,
                **WORKER_SETTINGS,
            )
            stack.enter_context(worker)
            workers[f"{worker.process.pid}@{socket.gethostname()}"] = worker
        await wait_for_pollers(client, task_queue, set(workers))
        handle = await client.start_workflow(
            BatchProcessingWorkflow.run,
            BatchProcessingWorkflowInput(batch_id=task_queue, **BATCH),
            id=f"batch-{task_queue}",
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=5),
        )

        killed, onboarded_at_the_kill = await kill_a_worker_mid_range(
            client, handle, workers
        )
        async with asyncio.timeout(90):
            result = await handle.result()

    assert result["processed"] == USERS
    assert (result["failed_count"], result["failed_ids"]) == (0, [])
    # Every user onboarded, and none twice: the retry went over users that
    # the killed worker had onboarded after its last heartbeat, and left them.
    onboarded = await sync_to_async(onboarded_at)()
    assert len(onboarded) == USERS
    changed = [pk for pk, at in onboarded_at_the_kill.items() if onboarded[pk] != at]
    assert changed == []

    started = await range_starts(handle)
    retried = started[killed.activity_id]
    assert retried.attempt > 1
    survivors = set(workers) - {killed.worker}
    assert retried.identity in survivors
    # Every worker took ranges: the killed one the range it died in, the
    # others ranges they completed.
    assert {start.identity for start in started.values()} >= survivors


async def wait_for_pollers(client: Client, task_queue: str, identities: set) -> None:
    """Wait until every worker polls the task queue for activities (the
    server names a worker by its identity, `<pid>@<host>` by default)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    )
    polling = set()
    try:
        async with asyncio.timeout(120):
            while not polling >= identities:
                await asyncio.sleep(0.1)
                response = await client.workflow_service.describe_task_queue(request)
                polling = {poller.identity for poller in response.pollers}
    except TimeoutError:
        pytest.fail(f"workers {sorted(identities)} expected; polling: {polling}")


async def kill_a_worker_mid_range(
    client: Client, handle: WorkflowHandle, workers: dict[str, Worker]
) -> tuple[RangeInFlight, dict[int, object]]:
    """Kill a worker in the middle of a range: some of its users onboarded
    after its last heartbeat (a retry goes over them again), some not yet.

    The test holds the users table's write lock while it looks, so that no
    range moves on meanwhile (a range that has users left cannot finish).
    Return the range, and each onboarded user's onboarded_at at the kill."""
    async with asyncio.timeout(60):
        while True:
            processed = (await handle.query(BatchProcessingWorkflow.progress))[
                "processed"
            ]
            assert processed < USERS, "the batch ended before a worker was killed"
            if processed:
                await sync_to_async(lock_users_table)()
                try:
                    for in_flight in await ranges_in_flight(client, handle):
                        if await sync_to_async(is_mid_range)(in_flight):
                            worker = workers[in_flight.worker]
                            worker.stop(signal.SIGKILL)
                            return in_flight, await sync_to_async(onboarded_at)()
                finally:
                    await sync_to_async(unlock_users_table)()
            await asyncio.sleep(0.05)


def lock_users_table() -> None:
    """Take the write lock of the users table (of the whole database, on
    SQLite); readers go on, the workers' bulk updates wait."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("BEGIN")
            table = connection.ops.quote_name(User._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def unlock_users_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK")


async def ranges_in_flight(
    client: Client, handle: WorkflowHandle
) -> list[RangeInFlight]:
    description = await handle.describe()
    scheduled = {
        event.activity_task_scheduled_event_attributes.activity_id: (
            event.activity_task_scheduled_event_attributes.input.payloads
        )
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    ranges = []
    for pending in description.raw_description.pending_activities:
        if (
            pending.activity_type.name != "process_user_range_activity"
            or pending.state != PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        ):
            continue
        [payload] = await client.data_converter.decode(
            scheduled[pending.activity_id], [UserRangePayload]
        )
        after_id = payload.after_id
        if pending.heartbeat_details.payloads:
            [details] = await client.data_converter.decode(
                pending.heartbeat_details.payloads
            )
            after_id = details["after_id"]
        ranges.append(
            RangeInFlight(
                pending.activity_id, pending.last_worker_identity, payload, after_id
            )
        )
    return ranges


def is_mid_range(in_flight: RangeInFlight) -> bool:
    """Whether the range has users onboarded since its last heartbeat, and
    users left to onboard."""
    users = User.objects.filter(
        pk__gt=in_flight.heartbeat_after_id, pk__lte=in_flight.payload.last_id
    )
    return (
        users.filter(onboarded_at__isnull=False).exists()
        and users.filter(onboarded_at__isnull=True).exists()
    )


def onboarded_at() -> dict[int, object]:
    """Each onboarded user's onboarded_at, by id."""
    onboarded = User.objects.filter(onboarded_at__isnull=False)
    return dict(onboarded.values_list("pk", "onboarded_at"))


async def range_starts(handle: WorkflowHandle) -> dict[str, object]:
    """The last start (attempt, worker identity) of each range, by activity id."""
    activity_ids, starts = {}, {}
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == "process_user_range_activity":
                activity_ids[event.event_id] = attributes.activity_id
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes = event.activity_task_started_event_attributes
            if attributes.scheduled_event_id in activity_ids:
                starts[activity_ids[attributes.scheduled_event_id]] = attributes
    return starts
