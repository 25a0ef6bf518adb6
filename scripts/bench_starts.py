"""Measure how fast Django code starts workflows on a given Temporal server.

Runs in a baked project's virtualenv, from the project's directory
(`scripts/bench.py` does that):

    VENV/bin/python TEMPLATE/scripts/bench_starts.py --address 127.0.0.1:7233

It starts user_onboarding, each time for a new user (a fake object, no
database row), on a task queue that no worker polls, in three ways:

- one raw client: one `Client` from `temporal_app.client.connect()`,
  awaiting `start_workflow` in an asyncio loop, one start after another;
- `start_onboarding()` from sync code: the project's starter, through the
  process's shared client (its own event loop in a daemon thread);
- a new client per start (connect, then start), for reference: what the
  template did before it had a shared client (fewer starts).

Each round runs the three ways one after the other, in the reverse order
every other round, so that the server's warm-up and slow-down (it keeps
every workflow) and the machine's load affect them alike. The table shows
starts per second (the median of the rounds), the latency of one start (p50
and p95 over every start) and each way's rate against the raw client's (the
median of the rounds' ratios). Use a throwaway server: the workflows stay
there, running.
"""

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

TASK_QUEUE = "bench-starts"  # no worker polls it
WARM_UP_STARTS = 20  # per way, not timed


@dataclass
class Way:
    """A way of starting workflows, and what its rounds measured."""

    name: str
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def record(self, latencies: list[float], seconds: float) -> None:
        self.rates.append(len(latencies) / seconds)
        self.latencies += latencies

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[percent - 1] * 1000

    def ratio(self, reference: "Way") -> float:
        """The median of the rounds' rate ratios to `reference`."""
        pairs = zip(self.rates, reference.rates, strict=True)
        return statistics.median(mine / theirs for mine, theirs in pairs)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--address", required=True, help="the Temporal server, host:port"
    )
    parser.add_argument("--rounds", type=int, default=6, help="default: %(default)s")
    parser.add_argument(
        "--starts",
        type=int,
        default=250,
        help="starts per round and way (default: %(default)s)",
    )
    parser.add_argument(
        "--new-client-starts",
        type=int,
        default=40,
        help="starts per round with a new client each (default: %(default)s)",
    )
    args = parser.parse_args()
    if args.rounds < 1 or min(args.starts, args.new_client_starts) < 2:
        parser.error("--rounds must be at least 1, and the starts at least 2")
    return args


def setup_django(address: str) -> None:
    """Load the project's test settings, pointed at `address` and at a task
    queue of the benchmark's own."""
    project = Path.cwd()
    if not (project / "manage.py").exists():
        sys.exit(f"error: run this from a baked project's directory, not {project}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        TEMPORAL_ADDRESS=address,
        TEMPORAL_TASK_QUEUE=TASK_QUEUE,
        # A local server: no TLS, no API key.
        TEMPORAL_TLS="false",
        TEMPORAL_API_KEY="",
        TEMPORAL_TLS_CLIENT_CERT_PATH="",
        TEMPORAL_TLS_CLIENT_KEY_PATH="",
        TEMPORAL_TLS_SERVER_CA_CERT_PATH="",
        TEMPORAL_TLS_SERVER_NAME="",
    )
    sys.path.insert(0, str(project))
    import django

    django.setup()


def user_ids() -> Callable[[], int]:
    """Return a function giving a new user id each call (microseconds since
    the epoch and up, so that a second run on the same server gets new ones)."""
    return itertools.count(time.time_ns() // 1000).__next__


def fake_user(pk: int) -> SimpleNamespace:
    return SimpleNamespace(
        pk=pk, email=f"bench-{pk}@example.com", display_name=f"Bench {pk}"
    )


def timed_starts(
    start: Callable[[SimpleNamespace], object], count: int, new_id: Callable[[], int]
) -> tuple[list[float], float]:
    """Call `start(user)` `count` times; return the latencies and the total."""
    latencies = []
    began = time.perf_counter()
    for _ in range(count):
        user = fake_user(new_id())
        before = time.perf_counter()
        start(user)
        latencies.append(time.perf_counter() - before)
    return latencies, time.perf_counter() - began


async def atimed_starts(
    start: Callable[[SimpleNamespace], Awaitable[object]],
    count: int,
    new_id: Callable[[], int],
) -> tuple[list[float], float]:
    """Await `start(user)` `count` times; return the latencies and the total."""
    latencies = []
    began = time.perf_counter()
    for _ in range(count):
        user = fake_user(new_id())
        before = time.perf_counter()
        await start(user)
        latencies.append(time.perf_counter() - before)
    return latencies, time.perf_counter() - began


def print_table(ways: list[Way], reference: Way) -> None:
    header = ("way", "starts/s", "p50 ms", "p95 ms", "vs raw")
    lines = [header] + [
        (
            way.name,
            f"{way.rate:,.0f}",
            f"{way.percentile_ms(50):.2f}",
            f"{way.percentile_ms(95):.2f}",
            f"{100 * way.ratio(reference):.0f}%",
        )
        for way in ways
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, (first, *rest) in enumerate(lines):
        cells = [first.ljust(widths[0])]
        cells += [
            text.rjust(width) for text, width in zip(rest, widths[1:], strict=True)
        ]
        print("  ".join(cells))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def main() -> None:
    args = parse_args()
    setup_django(args.address)
    import temporalio
    from temporal_app.client import connect
    from temporal_app.starters import (
        StartOutcome,
        onboarding_workflow_id,
        start_onboarding,
    )
    from temporal_app.workflows import OnboardingWorkflowInput, UserOnboardingWorkflow

    new_id = user_ids()

    async def raw_start(client, user) -> None:
        await client.start_workflow(
            UserOnboardingWorkflow.run,
            OnboardingWorkflowInput(
                user_id=user.pk, email=user.email, name=user.display_name
            ),
            id=onboarding_workflow_id(user.pk),
            task_queue=TASK_QUEUE,
        )

    async def new_client_start(user) -> None:
        await raw_start(await connect(), user)

    def sync_start(user) -> None:
        outcome = start_onboarding(user).outcome
        if outcome != StartOutcome.STARTED:  # a new id takes one request
            raise RuntimeError(f"start_onboarding: {outcome} for a new user")

    raw = Way("one raw client (async)")
    shared = Way("start_onboarding() from sync code")
    per_start = Way("a new client per start (async)")
    # The raw client's loop runs only while it measures: start_onboarding
    # refuses to block a thread whose event loop is running.
    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(connect())

        def measure_raw(count: int) -> tuple[list[float], float]:
            starts = atimed_starts(lambda user: raw_start(client, user), count, new_id)
            return loop.run_until_complete(starts)

        def measure_shared(count: int) -> tuple[list[float], float]:
            return timed_starts(sync_start, count, new_id)

        def measure_per_start(count: int) -> tuple[list[float], float]:
            starts = atimed_starts(new_client_start, count, new_id)
            return loop.run_until_complete(starts)

        print(
            f"{args.rounds} rounds of {args.starts} starts per way "
            f"({args.new_client_starts} with a new client each); server "
            f"{args.address}; {os.cpu_count()} CPUs; Python "
            f"{platform.python_version()}, temporalio {temporalio.__version__}",
            flush=True,
        )
        order = [
            (raw, measure_raw, args.starts),
            (shared, measure_shared, args.starts),
            (per_start, measure_per_start, args.new_client_starts),
        ]
        for _, measure, _ in order:  # warm-up, not timed
            measure(WARM_UP_STARTS)
        for _ in range(args.rounds):
            for way, measure, count in order:
                way.record(*measure(count))
            order.reverse()
    finally:
        loop.close()
    print()
    print_table([raw, shared, per_start], reference=raw)
    print("\nstarts/s of each round:")
    for way in (raw, shared, per_start):
        print(f"  {way.name}: {', '.join(f'{rate:,.0f}' for rate in way.rates)}")
    print(
        "p50/p95: the latency of one start, over every start of the way;\n"
        "vs raw: the median of the rounds' rate ratios."
    )


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
