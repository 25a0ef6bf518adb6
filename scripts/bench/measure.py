"""Measure one piece of a baked project's work, from outside the project.

`make bench` (scripts/bench) runs this in the project's virtualenv, from the
project's directory, once per measurement, and reads the figures it writes
to `--result` (JSON):

    python TEMPLATE/scripts/bench/measure.py prepare --users 100000 --result F
    python TEMPLATE/scripts/bench/measure.py batch --by ids --result F
    python TEMPLATE/scripts/bench/measure.py direct --by selection --result F
    python TEMPLATE/scripts/bench/measure.py starts --result F

The project's settings come from the environment (DJANGO_SETTINGS_MODULE,
DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE ...), which the caller
sets; a Temporal server and a worker must already run for `batch`, a server
for `starts`. Only the project's public names are used: its workflows, their
inputs, its activities and its starters.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

# Users per bulk_create while preparing the database.
CREATE_BATCH = 10_000
# How long a batch waits for its workers to poll (they start on a loaded machine).
WORKERS_TIMEOUT = 120
WORKFLOW_SETTINGS = ("chunk_size", "max_concurrent_chunks", "chunks_per_run")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["prepare", "batch", "direct", "starts"])
    parser.add_argument("--result", type=Path, required=True, help="a JSON file")
    parser.add_argument("--users", type=int, help="prepare: users in the database")
    parser.add_argument("--by", choices=["ids", "selection"], help="batch, direct")
    parser.add_argument(
        "--workers", type=int, default=1, help="batch: workers to wait for"
    )
    parser.add_argument("--rounds", type=int, default=6, help="starts")
    parser.add_argument("--starts", type=int, default=320, help="starts per round")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="starts: threads (or tasks) at once"
    )
    parser.add_argument(
        "--round-trip", type=float, default=0, help="starts: seconds to Temporal"
    )
    for name in WORKFLOW_SETTINGS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int)
    return parser.parse_args()


def setup_django() -> None:
    if not Path("manage.py").exists():
        sys.exit(f"error: run this from a baked project, not {Path.cwd()}")
    sys.path.insert(0, str(Path.cwd()))
    import django

    django.setup()


async def connect():
    """A client of the server that the caller named (the settings may say
    more: a profile, TLS; the bench's server needs none of it)."""
    from temporalio.client import Client

    return await Client.connect(
        os.environ["TEMPORAL_ADDRESS"], namespace=os.environ["TEMPORAL_NAMESPACE"]
    )


def user_ids() -> list[int]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.order_by("pk")
    return list(users.values_list("pk", flat=True))


def prepare(args: argparse.Namespace) -> dict:
    """Apply the migrations, and add users until there are `--users`; say
    what is measured, with what. A database that holds users of its own is
    refused: the bench would change them."""
    import django
    import temporalio
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    User = get_user_model()
    existing = User.objects.count()
    if existing and not User.objects.filter(username="bench-0").exists():
        sys.exit(
            "error: the database has users of its own; give the bench an empty one"
        )
    if args.users > existing:
        print(f"Creating {args.users - existing:,} users (not timed)...", flush=True)
    for start in range(existing, args.users, CREATE_BATCH):
        User.objects.bulk_create(
            User(username=f"bench-{n}", email=f"bench-{n}@example.com")
            for n in range(start, min(start + CREATE_BATCH, args.users))
        )
    workflow = batch_input(args, "", [])
    settings = ", ".join(
        f"{name}={getattr(workflow, name):,}" for name in WORKFLOW_SETTINGS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()"
            if connection.vendor == "sqlite"
            else "SHOW server_version"
        )
        database = f"{connection.display_name} {cursor.fetchone()[0]}"
    return {
        "setup": f"{database}, Django {django.get_version()}, temporalio "
        f"{temporalio.__version__}, Python {platform.python_version()}; {settings}"
    }


def batch_input(args: argparse.Namespace, batch_id: str, ids: list[int]):
    """The batch's input: all users, by ids or as the selection "all"."""
    from temporal_app.workflows import BatchProcessingWorkflowInput

    settings = {
        name: getattr(args, name)
        for name in WORKFLOW_SETTINGS
        if getattr(args, name) is not None
    }
    users = {"user_ids": ids} if args.by == "ids" else {"selection": "all"}
    return BatchProcessingWorkflowInput(batch_id=batch_id, **users, **settings)


async def batch(args: argparse.Namespace, ids: list[int]) -> dict:
    """Time batch_processing over every user, from its start to its result."""
    from temporal_app.workflows import BatchProcessingWorkflow

    client = await connect()
    task_queue = os.environ["TEMPORAL_TASK_QUEUE"]
    await wait_for_workers(client, task_queue, args.workers)
    name = f"bench-{args.by}-{len(ids)}-{args.workers}"
    # Not timed: the worker is polling and has loaded the workflow code.
    await client.execute_workflow(
        BatchProcessingWorkflow.run,
        batch_input(args, f"{name}-warm-up", ids[:1]),
        id=f"{name}-warm-up",
        task_queue=task_queue,
    )
    print(f"Running batch_processing over {len(ids):,} users by {args.by}...")
    started = time.perf_counter()
    result = await client.execute_workflow(
        BatchProcessingWorkflow.run,
        batch_input(args, name, ids),
        id=name,
        task_queue=task_queue,
    )
    seconds = time.perf_counter() - started
    if result["processed"] != len(ids) or result["failed_count"]:
        sys.exit(f"error: the batch did not process every user once: {result}")
    return {
        "count": len(ids),
        "seconds": seconds,
        "runs": result["runs"],
        "history": await largest_history(client, name, result["runs"]),
    }


async def wait_for_workers(client, task_queue: str, count: int) -> None:
    """Wait until `count` workers poll the task queue for activities (the
    server lists a worker once it has polled)."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    )
    deadline = time.monotonic() + WORKERS_TIMEOUT
    while True:
        response = await client.workflow_service.describe_task_queue(request)
        if len(response.pollers) >= count:
            return
        if time.monotonic() > deadline:
            sys.exit(
                f"error: {len(response.pollers)} workers poll {task_queue!r} "
                f"after {WORKERS_TIMEOUT} s, not {count}"
            )
        await asyncio.sleep(0.2)


async def largest_history(client, workflow_id: str, runs: int) -> int:
    """Events in the longest of the workflow's runs (the first one and each
    continue-as-new); the server's list catches up within moments."""
    lengths = []
    for _ in range(50):
        lengths = [
            execution.history_length
            async for execution in client.list_workflows(
                f"WorkflowId = '{workflow_id}'"
            )
        ]
        if len(lengths) >= runs and all(lengths):
            break
        await asyncio.sleep(0.1)
    return max(lengths, default=0)


async def direct(args: argparse.Namespace, ids: list[int]) -> dict:
    """The same work without Temporal: the batch's activities called one
    after another in this process, as its workflow would call them."""
    from temporal_app import activities
    from temporal_app.workflows import MAX_IDS_PER_ACTIVITY, RANGES_PER_PLAN
    from temporalio.testing import ActivityEnvironment

    size = min(batch_input(args, "", []).chunk_size, MAX_IDS_PER_ACTIVITY)
    run = ActivityEnvironment().run
    print(f"Running the batch's activities directly over {len(ids):,} users...")
    started, processed = time.perf_counter(), 0
    if args.by == "ids":
        for start in range(0, len(ids), size):
            chunk = activities.UserChunkPayload(user_ids=ids[start : start + size])
            result = await run(activities.process_user_chunk_activity, chunk)
            processed += result["processed"]
    else:
        after_id = 0
        while ranges := await run(
            activities.plan_user_ranges_activity,
            activities.UserRangesPayload(
                "all", after_id=after_id, size=size, count=RANGES_PER_PLAN
            ),
        ):
            for user_range in ranges:
                payload = activities.UserRangePayload(
                    "all", after_id=user_range.after_id, last_id=user_range.last_id
                )
                result = await run(activities.process_user_range_activity, payload)
                processed += result["processed"]
            after_id = ranges[-1].last_id
    seconds = time.perf_counter() - started
    if processed != len(ids):
        sys.exit(f"error: {processed:,} users processed instead of {len(ids):,}")
    return {"count": processed, "seconds": seconds}


def starts(args: argparse.Namespace) -> dict:
    """Starts of user_onboarding per second, each for a new user (a stand-in
    object, no database row), on a task queue that no worker polls, from
    `--concurrency` threads (or tasks) at once, as many requests of a web
    process would, with `--round-trip` seconds to Temporal (a proxy that
    delays each direction by half of it):

    - `start_onboarding()` from sync code, as Django code calls it: the
      project's starter on the process's shared client;
    - one raw client, awaiting `start_workflow` in as many asyncio tasks,
      with the same request: what the starter adds to is this;
    - `enqueue()` of a `@task` (the project's purge_email_deliveries) from
      sync code, outside a transaction: a row in the outbox, the start of
      its django_task workflow, the row deleted.

    Each round runs both ways, in turn, the other way first every other
    round, so that the server's slow-down (it keeps every workflow) and the
    machine's load weigh on them alike. A way's rate is the median of its
    rounds'."""
    from django_temporal_bridge.models import EnqueuedTask
    from django_temporal_bridge.starting import StartOutcome
    from temporal_app.search_attributes import USER_ID
    from temporal_app.starters import onboarding_workflow_id, start_onboarding
    from temporal_app.tasks import purge_email_deliveries
    from temporal_app.workflows import OnboardingWorkflowInput, UserOnboardingWorkflow
    from temporalio.client import Client
    from temporalio.common import (
        SearchAttributePair,
        TypedSearchAttributes,
        WorkflowIDConflictPolicy,
        WorkflowIDReusePolicy,
    )

    # Ids no earlier run on the same server used (a workflow id is a user's).
    new_id = itertools.count(time.time_ns() // 1000).__next__

    def new_user() -> SimpleNamespace:
        pk = new_id()
        return SimpleNamespace(
            pk=pk, email=f"bench-{pk}@example.com", display_name=f"Bench {pk}"
        )

    def sync_start() -> None:
        outcome = start_onboarding(new_user()).outcome
        if outcome != StartOutcome.STARTED:  # a new user's start is one request
            sys.exit(f"error: start_onboarding said {outcome} for a new user")

    def enqueue() -> None:
        purge_email_deliveries.enqueue()

    async def raw_start(client: Client) -> None:
        """The request start_onboarding() makes for a new user."""
        user = new_user()
        await client.start_workflow(
            UserOnboardingWorkflow.run,
            OnboardingWorkflowInput(
                user_id=user.pk, email=user.email, name=user.display_name
            ),
            id=onboarding_workflow_id(user.pk),
            task_queue=os.environ["TEMPORAL_TASK_QUEUE"],
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(USER_ID, user.pk)]
            ),
        )

    # The raw client's loop runs only while it starts workflows:
    # start_onboarding refuses to block a thread whose event loop runs.
    loop = asyncio.new_event_loop()
    threads = ThreadPoolExecutor(args.concurrency)
    try:
        client = loop.run_until_complete(connect())

        def raw_starts(count: int) -> float:
            return loop.run_until_complete(
                atimed(lambda: raw_start(client), count, args.concurrency)
            )

        # A way: how it starts `count` workflows (returning the seconds it
        # took), and the seconds of each of its rounds.
        ways = {"sync": (lambda count: timed(sync_start, count, threads), []),
                "raw": (raw_starts, []),
                "enqueue": (lambda count: timed(enqueue, count, threads), [])}  # fmt: skip
        print(f"Starting workflows: {args.rounds} rounds of {args.starts} per way...")
        for measure, _ in ways.values():  # warm-up, not timed
            measure(20)
        order = list(ways.values())
        for _ in range(args.rounds):
            for measure, rounds in order:
                rounds.append(measure(args.starts))
            order.reverse()
    finally:
        threads.shutdown()
        loop.close()
    # A start that failed leaves its task in the outbox, and enqueue() says
    # nothing: such a run measured something else.
    if left := EnqueuedTask.objects.count():
        sys.exit(f"error: {left} enqueued tasks were not started on Temporal")
    return {
        name: {
            "count": args.starts * len(rounds),
            "seconds": sum(rounds),
            "rate": statistics.median(args.starts / seconds for seconds in rounds),
        }
        for name, (_, rounds) in ways.items()
    }


def timed(start: Callable[[], None], count: int, threads: ThreadPoolExecutor) -> float:
    """Seconds `count` calls of `start` take on `threads`, all at once."""
    began = time.perf_counter()
    for started in [threads.submit(start) for _ in range(count)]:
        started.result()
    return time.perf_counter() - began


async def atimed(
    start: Callable[[], Awaitable[None]], count: int, concurrency: int
) -> float:
    """Seconds `count` awaits of `start` take, `concurrency` at once."""
    todo = iter(range(count))

    async def one_after_another() -> None:
        for _ in todo:
            await start()

    began = time.perf_counter()
    await asyncio.gather(*(one_after_another() for _ in range(concurrency)))
    return time.perf_counter() - began


@contextlib.contextmanager
def at_a_distance(round_trip: float):
    """TEMPORAL_ADDRESS through a proxy `round_trip` seconds away, if any."""
    if not round_trip:
        yield
        return
    from django_temporal_bridge.testing import DelayingProxy

    with DelayingProxy(os.environ["TEMPORAL_ADDRESS"], round_trip) as proxy:
        os.environ["TEMPORAL_ADDRESS"] = proxy.address
        yield


def main() -> None:
    args = parse_args()
    setup_django()
    if args.what == "prepare":
        result = prepare(args)
    elif args.what == "starts":
        with at_a_distance(args.round_trip):
            result = starts(args)
    else:
        ids = user_ids()
        result = asyncio.run((batch if args.what == "batch" else direct)(args, ids))
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted")
    # Skip the interpreter's teardown: the SDK's Rust threads sometimes crash
    # it after a client was used (temporalio/sdk-python#300), turning a good
    # run into exit code 139.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
