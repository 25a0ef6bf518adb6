"""Many workers, one task queue: three real worker processes share a batch
of 100,000 users on the session's `temporal server start-dev`, one of them
is killed (SIGKILL) in the middle of a range of users, and the batch still
ends with every user processed once, by the count and in the database.

A range of 10,000 users takes about a tenth of a second, the whole batch
about a second: faster than a test can look at it. So the test does not
wait for a worker to be in the middle of a range, it puts one there. It
holds the users table's write lock from before the batch starts, until
every worker has a range whose first bulk update waits for the lock. Then
it stops one of them (SIGSTOP), releases the lock, and once that worker's
update has committed (users onboarded that no heartbeat reported, the rest
of its range still to do), kills it.

PostgreSQL only: a stopped worker's update, already sent, runs in the
server; on SQLite it would wait for the lock in the stopped process."""

import asyncio
import signal
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a PostgreSQL server's locks"
    ),
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
    started: datetime  # when the worker started it


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
        # No bulk update commits until the test lets them: the gate.
        await sync_to_async(lock_users_table)()
        try:
            handle = await client.start_workflow(
                BatchProcessingWorkflow.run,
                BatchProcessingWorkflowInput(batch_id=task_queue, **BATCH),
                id=f"batch-{task_queue}",
                task_queue=task_queue,
                execution_timeout=timedelta(minutes=5),
            )
            victim = await wait_for_a_range_per_worker(client, handle)
            workers[victim.worker].process.send_signal(signal.SIGSTOP)
        finally:
            await sync_to_async(unlock_users_table)()
        killed, onboarded_at_the_kill = await kill_once_it_has_onboarded(
            client, handle, workers[victim.worker], victim
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


async def wait_for_a_range_per_worker(
    client: Client, handle: WorkflowHandle
) -> RangeInFlight:
    """While the test holds the users table's lock: wait until every worker
    has started a range and its range's first bulk update waits for the lock
    (a worker runs one activity at a time: WORKERS updates waiting are one
    per worker). Return the range started last, which has the most of its
    heartbeat timeout left."""
    waiting, ranges = 0, []
    try:
        async with asyncio.timeout(60):
            while waiting < WORKERS or not ranges:
                await asyncio.sleep(0.05)
                waiting = await sync_to_async(updates_waiting)()
                ranges = await ranges_in_flight(client, handle)
    except TimeoutError:
        pytest.fail(f"{waiting} updates wait for the lock; ranges started: {ranges}")
    return max(ranges, key=lambda in_flight: in_flight.started)


async def kill_once_it_has_onboarded(
    client: Client, handle: WorkflowHandle, worker: Worker, stopped: RangeInFlight
) -> tuple[RangeInFlight, dict[int, object]]:
    """Kill the stopped worker as soon as the update it had sent has
    committed: as if it died between a bulk update and its heartbeat. Its
    range then has users onboarded after its last heartbeat (a retry goes
    over them again) and users left, and keeps them: no worker holds it
    until Temporal retries it, after the heartbeat timeout.

    Return the range, and each onboarded user's onboarded_at at the kill."""
    async with asyncio.timeout(60):
        while not await sync_to_async(has_onboarded_users)(stopped):
            await asyncio.sleep(0.01)
    worker.stop(signal.SIGKILL)
    onboarded_at_the_kill = await sync_to_async(onboarded_at)()
    in_flight = next(
        (
            in_flight
            for in_flight in await ranges_in_flight(client, handle)
            if in_flight.activity_id == stopped.activity_id
        ),
        None,
    )
    assert in_flight is not None and in_flight.worker == stopped.worker, (
        f"range {stopped.activity_id}, started {stopped.started:%H:%M:%S.%f}"
        f" UTC, was retried before the kill: its heartbeat timeout"
        f" ({BATCH['heartbeat_timeout_seconds']} s) passed first: {in_flight}"
    )
    assert await sync_to_async(is_mid_range)(in_flight), in_flight
    return in_flight, onboarded_at_the_kill


def lock_users_table() -> None:
    """Take the write lock of the users table: readers go on (the workflow
    plans its ranges), the workers' bulk updates wait."""
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        table = connection.ops.quote_name(User._meta.db_table)
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def unlock_users_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK")


def updates_waiting() -> int:
    """How many connections wait for the users table's lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted"
            " AND locktype = 'relation' AND relation = %s::regclass"
            " AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())",
            [connection.ops.quote_name(User._meta.db_table)],
        )
        return cursor.fetchone()[0]


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
                pending.activity_id,
                pending.last_worker_identity,
                payload,
                after_id,
                pending.last_started_time.ToDatetime(),
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


def has_onboarded_users(in_flight: RangeInFlight) -> bool:
    """Whether the range has users onboarded."""
    return User.objects.filter(
        pk__gt=in_flight.payload.after_id,
        pk__lte=in_flight.payload.last_id,
        onboarded_at__isnull=False,
    ).exists()


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
