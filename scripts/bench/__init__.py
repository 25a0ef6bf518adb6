"""Bake a project and time its work: `make bench` prints one table.

    make bench                                  # SQLite, all rows
    make bench ARGS="--venv PATH --large 0"     # reuse a virtualenv, no million
    make bench ARGS="--database-url postgres://USER@HOST:PORT/EMPTY_DB"
    .venv/bin/python -m scripts.bench --help

It bakes a project with the default answers (the PostgreSQL answer for a
postgres:// URL) into a temporary directory and gets a virtualenv with its
dependencies: `--venv PATH` reuses one, such as the test suite's
(~/.cache/cookiecutter-django-temporal/venv-*); without it, the project's
own `make install` makes one. It starts a Temporal dev server (headless, in
memory, on a free port) and the project's worker, then measures, each time
in a process of the project's virtualenv (measure.py):

- batch_processing over 100,000 users given by their ids, and over the
  selection "all" of 100,000 and of 1,000,000 users, from the start of the
  workflow to its result (creating the users is not timed); beside each, its
  floor: the same activities called directly, one after another, in one
  process without Temporal, which is the database's share of the work;
- the last batch by selection again (of the million, or of 100,000 with
  `--large 0`), with three workers: two more processes of the same command
  on the same task queue (`--workers`);
- user_onboarding starts per second from sync code (`start_onboarding()`),
  beside those of one raw client, their floor;
- Django's `enqueue()` of a `@task` per second from sync code, beside
  `start_onboarding()`'s starts, its floor (enqueue() adds the outbox row);
- both from 32 threads at once (the raw client from 32 asyncio tasks), with
  the server beside them and again 240 ms away through a proxy that delays
  each direction by 120 ms (Temporal Cloud from another region).

The database is SQLite in the temporary directory, or the empty PostgreSQL
database that `--database-url` names (its users are left there). A new
row is a measurement in measure.py and a row in `measure_all()`.
"""

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts import baked

MEASURE = Path(__file__).resolve().parent / "measure.py"
SERVER_TIMEOUT = 60
MEASURE_TIMEOUT = 1800
WORKFLOW_SETTINGS = ("chunk_size", "max_concurrent_chunks", "chunks_per_run")
# Starts at once (a web process's threads), and the distance of the far rows:
# Temporal Cloud from another region.
CONCURRENCY, ROUND_TRIP = 32, 0.24
# Connection settings that the bench empties (.env or the shell may set them).
NOT_FOR_A_LOCAL_SERVER = (
    "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE", "TEMPORAL_API_KEY",
    "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME",
)  # fmt: skip


class BenchError(RuntimeError):
    """A process of the bench failed; the message says which, and why."""


@dataclass
class Row:
    """A line of the table: some work, its time, and its floor's."""

    work: str
    count: int
    seconds: float
    rate: float
    floor_seconds: float | None = None
    floor_rate: float | None = None
    runs: int | None = None
    history: int | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--venv", type=Path, help="a virtualenv with the project's dependencies"
    )
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to use (default: SQLite in a temp dir)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=100_000,
        help="users of the batches by ids and by selection (default: %(default)s)",
    )
    parser.add_argument(
        "--large",
        type=int,
        default=1_000_000,
        help="users of the large batch by selection; 0: none (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="workers of the last batch by selection, run again after it; "
        "1: not again (default: %(default)s)",
    )
    parser.add_argument(
        "--only", choices=["batches", "starts"], help="measure only these rows"
    )
    workflow = parser.add_argument_group(
        "the batches' settings (default: those of BatchProcessingWorkflowInput)"
    )
    for name in WORKFLOW_SETTINGS:
        workflow.add_argument(f"--{name.replace('_', '-')}", type=int)
    args = parser.parse_args(argv)
    if args.users < 1 or 0 < args.large < args.users:
        parser.error("--users must be at least 1, and --large 0 or at least --users")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--database-url: a postgres:// URL (SQLite is the default)")
    return args


class Bench:
    """A baked project, its virtualenv, and the Temporal server and worker
    that its measurements run against."""

    def __init__(self, project: Path, venv: Path, work_dir: Path, database_url: str):
        self.project = project
        self.python = str(venv / "bin" / "python")
        self.venv = venv
        self.work_dir = work_dir
        self.port = baked.free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = baked.project_env(
            venv,
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL=database_url,
            # DEBUG keeps every query in memory, and slows the ORM down.
            DJANGO_DEBUG="false",
            TEMPORAL_ADDRESS=f"127.0.0.1:{self.port}",
            TEMPORAL_NAMESPACE="default",
            TEMPORAL_TASK_QUEUE="bench",
            # The local server, whatever .env, a profile or the machine say.
            TEMPORAL_TLS="false",
            **dict.fromkeys(NOT_FOR_A_LOCAL_SERVER, ""),
            # Budgets meant for a signup, not for a loaded benchmark machine.
            TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS="5",
            TEMPORAL_CLIENT_START_TIMEOUT_SECONDS="5",
            # No metrics port (a worker of yours may hold it); the bench
            # creates users in bulk, and starts no onboarding for them.
            TEMPORAL_METRICS_BIND_ADDRESS="",
            TEMPORAL_START_ONBOARDING_ON_SIGNUP="false",
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """The Temporal dev server and the worker, stopped on the way out."""
        try:
            self._start(
                "temporal server",
                # In memory: the bench measures the project's work and
                # Temporal's round-trips, not the disk of a dev server.
                baked.temporal_dev_server(self.venv, self.port, "--headless"),
            )
            self._wait_for_server()
            self._start_worker("worker")
            yield
        finally:
            baked.stop(self.processes.values())

    @contextlib.contextmanager
    def workers(self, count: int) -> Iterator[None]:
        """`count` workers on the task queue: the first one and more of the
        same command, stopped on the way out."""
        more = [f"worker {number}" for number in range(2, count + 1)]
        try:
            for name in more:
                self._start_worker(name)
            yield
        finally:
            baked.stop([self.processes.pop(name) for name in more])

    def measure(self, what: str, *args: str, **env: str) -> dict:
        """Run measure.py in the project; return the figures it wrote. It is
        stopped if the server or the worker exits, or after MEASURE_TIMEOUT.
        Its errors and warnings (such as the SDK's about a large input) go to
        a log, shown if it fails."""
        result, log = self.work_dir / f"{what}.json", self.work_dir / "measure.log"
        result.unlink(missing_ok=True)
        with log.open("wb") as errors:
            child = subprocess.Popen(
                [self.python, str(MEASURE), what, "--result", str(result), *args],
                cwd=self.project,
                env=self.env | env,
                stderr=errors,
                start_new_session=True,
            )
        deadline = time.monotonic() + MEASURE_TIMEOUT
        try:
            while child.poll() is None:
                self._check_running()
                if time.monotonic() > deadline:
                    raise BenchError(f"measure.py {what} took over {MEASURE_TIMEOUT} s")
                time.sleep(0.2)
        finally:
            baked.stop([child])
        if child.returncode:
            raise BenchError(
                f"measure.py {what} exited with {child.returncode}:\n{tail(log)}"
            )
        return json.loads(result.read_text())

    def _start(self, name: str, command: list[str]) -> None:
        log = self.work_dir / f"{name.replace(' ', '-')}.log"
        self.processes[name] = baked.start(
            command, log=log, cwd=self.project, env=self.env
        )

    def _start_worker(self, name: str) -> None:
        self._start(name, [self.python, "manage.py", "run_temporal_worker"])

    def _check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.work_dir / f"{name.replace(' ', '-')}.log"
                raise BenchError(
                    f"the {name} exited with {process.returncode}:\n{tail(log)}"
                )

    def _wait_for_server(self) -> None:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while time.monotonic() < deadline:
            self._check_running()
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.2)
        raise BenchError(
            f"the Temporal server did not listen within {SERVER_TIMEOUT} s"
        )


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def batch_row(
    bench: Bench,
    by: str,
    settings: list[str],
    workers: int = 1,
    floor: Row | None = None,
) -> Row:
    """batch_processing over every user of the database on `workers`
    workers, and its floor (that of `floor`, a row of the same work)."""
    with bench.workers(workers):
        batch = bench.measure("batch", "--by", by, f"--workers={workers}", *settings)
    if floor is None:
        direct = bench.measure("direct", "--by", by, *settings)
        floor_seconds = direct["seconds"]
        floor_rate = direct["count"] / direct["seconds"]
    else:
        floor_seconds, floor_rate = floor.floor_seconds, floor.floor_rate
    return Row(
        work=f"batch by {by}" + (f", {workers} workers" if workers > 1 else ""),
        count=batch["count"],
        seconds=batch["seconds"],
        rate=batch["count"] / batch["seconds"],
        floor_seconds=floor_seconds,
        floor_rate=floor_rate,
        runs=batch["runs"],
        history=batch["history"],
    )


def measure_all(bench: Bench, args: argparse.Namespace) -> tuple[str, list[Row]]:
    """What the table shows: a line about the setup, and the rows."""
    settings = [
        f"--{name.replace('_', '-')}={getattr(args, name)}"
        for name in WORKFLOW_SETTINGS
        if getattr(args, name) is not None
    ]
    users = args.users if args.only != "starts" else 0
    setup = bench.measure("prepare", "--users", str(users), *settings)["setup"]
    rows = []
    if args.only != "starts":
        rows.append(batch_row(bench, "ids", settings))
        rows.append(selection := batch_row(bench, "selection", settings))
        if args.large:
            bench.measure("prepare", "--users", str(args.large))
            rows.append(selection := batch_row(bench, "selection", settings))
        if args.workers > 1:
            # The last batch again, beside the same floor: only the workers
            # differ (the longer batch, when there is one: the steadier figure).
            rows.append(
                batch_row(bench, "selection", settings, args.workers, floor=selection)
            )
    if args.only != "batches":
        for round_trip in (0, ROUND_TRIP):
            rows += start_rows(bench, round_trip)
    return setup, rows


def start_rows(bench: Bench, round_trip: float) -> list[Row]:
    """Starts and enqueues from CONCURRENCY threads, `round_trip` seconds
    from the server; on a task queue of their own, which no worker polls."""
    starts = bench.measure(
        "starts", "--concurrency", str(CONCURRENCY), "--round-trip", str(round_trip),
        TEMPORAL_TASK_QUEUE="bench-starts",
    )  # fmt: skip
    sync, raw, enqueue = starts["sync"], starts["raw"], starts["enqueue"]
    at = f", {CONCURRENCY} at once, {round_trip * 1000:.0f} ms away"
    return [
        Row(f"starts, start_onboarding() (sync){at}", sync["count"],
            sync["seconds"], sync["rate"], raw["seconds"], raw["rate"]),
        Row(f"starts, one raw client (async){at}", raw["count"], raw["seconds"],
            raw["rate"]),
        Row(f"enqueue() of a @task (sync){at}", enqueue["count"],
            enqueue["seconds"], enqueue["rate"], sync["seconds"], sync["rate"]),
    ]  # fmt: skip


FOOTNOTE = """
n: a batch's users, workflows started, or tasks enqueued; per s: n / time
(for starts and enqueues, the median of the rounds' rates). A batch runs
on one worker unless its line says more (processes of the same command on
one task queue, on this machine). floor: the same
work without what is measured above it: a batch's activities called one
after another in one process, without Temporal (the database's share); for
start_onboarding(), one raw client's starts; for enqueue(),
start_onboarding()'s. runs: a batch's runs (continue-as-new); largest
history: the events of its longest run."""


def print_table(setup: str, rows: list[Row]) -> None:
    def cell(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    header = ("work", "n", "time s", "per s", "floor s", "floor per s", "runs",
              "largest history")  # fmt: skip
    lines = [header] + [
        (
            row.work,
            f"{row.count:,}",
            f"{row.seconds:.1f}",
            f"{row.rate:,.0f}",
            cell(row.floor_seconds, ".1f"),
            cell(row.floor_rate, ",.0f"),
            cell(row.runs, "d"),
            cell(row.history, ",d"),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"\n{setup}\n")
    for number, (work, *figures) in enumerate(lines):
        pairs = zip(figures, widths[1:], strict=True)
        cells = [work.ljust(widths[0])] + [text.rjust(width) for text, width in pairs]
        print("  ".join(cells))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(FOOTNOTE)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary:
        work_dir = Path(temporary)
        database_url = args.database_url or f"sqlite:///{work_dir / 'bench.sqlite3'}"
        answers = {"database": "postgresql"} if args.database_url else {}
        print("Baking a project with the default answers...", flush=True)
        project = baked.bake(work_dir / "baked", **answers)
        venv = (args.venv or baked.install(project)).absolute()
        bench = Bench(project, venv, work_dir, database_url)
        try:
            with bench.running():
                setup, rows = measure_all(bench, args)
        except BenchError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print_table(f"{setup}; {os.cpu_count()} CPUs", rows)
    return 0
