"""Bake a project and print its performance figures.

    make bench                                # bake, install, then both tables
    make bench ARGS="--venv PATH --starts-only"
    .venv/bin/python scripts/bench.py --help

1. Bakes a project with the default answers into a temporary directory.
2. Gets a virtualenv with its dependencies: `--venv PATH` reuses one (such as
   the test suite's, ~/.cache/cookiecutter-django-temporal/venv-*); without
   it, the project's own `make install` creates one.
3. Starts a Temporal dev server from that virtualenv (in memory, on a free
   port) and runs scripts/bench_starts.py against it: the start rate of
   `start_onboarding()` from sync code against one raw client's.
4. Unless `--starts-only`, runs the project's batch benchmark
   (`scripts/benchmark_batch.py`, the project's `make bench`), which starts a
   server and a worker of its own.
"""

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from screenshots import bake, free_port

SCRIPTS_DIR = Path(__file__).resolve().parent
INSTALL_TIMEOUT = 900
SERVER_TIMEOUT = 60
STARTS_TIMEOUT = 600
BATCH_TIMEOUT = 1800


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--venv", type=Path, help="a virtualenv with the project's dependencies"
    )
    parser.add_argument(
        "--starts-only", action="store_true", help="skip the batch benchmark"
    )
    parser.add_argument(
        "--users", type=int, help="users of the batch benchmark (default: its own)"
    )
    return parser.parse_args()


def install(project: Path) -> Path:
    """Run the project's own `make install`; return its virtualenv."""
    subprocess.run(
        ["make", "install"], cwd=project, check=True, timeout=INSTALL_TIMEOUT
    )
    return project / ".venv"


def project_env(venv: Path) -> dict[str, str]:
    """Our environment, with `venv` first on PATH and no settings of ours."""
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    return env


def run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> None:
    """Run `command`, its output to ours. On Ctrl-C or past `timeout`, send it
    SIGINT and give it a minute to stop what it started, then SIGKILL."""
    child = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    try:
        returncode = child.wait(timeout=timeout)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise
    if returncode:
        raise subprocess.CalledProcessError(returncode, command)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM a process's group, SIGKILL it after 15 seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    """Wait until something listens on `port`, while `process` runs."""
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"error: the Temporal server exited:\n{log.read_text()[-4000:]}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1),
        ):
            return
        time.sleep(0.2)
    sys.exit(f"error: the Temporal server did not listen within {SERVER_TIMEOUT} s")


@contextlib.contextmanager
def temporal_server(venv: Path, log: Path) -> Iterator[str]:
    """Run `temporal server start-dev` (headless, in memory, on a free port);
    yield its address, stop it on the way out."""
    port = free_port()
    command = [
        str(venv / "bin" / "temporal"), "server", "start-dev", "--headless",
        "--ip", "127.0.0.1", "--port", str(port), "--log-level", "error",
    ]  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(port, server, log)
            yield f"127.0.0.1:{port}"
        finally:
            stop(server)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as work_dir:
        print("Baking a project with the default answers...", flush=True)
        project = bake(Path(work_dir) / "baked")
        venv = (args.venv or install(project)).absolute()
        python = str(venv / "bin" / "python")
        env = project_env(venv)

        print("\n== Starting workflows from Django code ==", flush=True)
        with temporal_server(venv, Path(work_dir) / "temporal.log") as address:
            run(
                [python, str(SCRIPTS_DIR / "bench_starts.py"), "--address", address],
                cwd=project,
                env=env,
                timeout=STARTS_TIMEOUT,
            )
        if not args.starts_only:
            print("\n== Batches (the project's scripts/benchmark_batch.py) ==")
            sys.stdout.flush()
            users = ["--users", str(args.users)] if args.users else []
            run(
                [python, "scripts/benchmark_batch.py", *users],
                cwd=project,
                env=env,
                timeout=BATCH_TIMEOUT,
            )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted")
    except subprocess.TimeoutExpired as error:
        sys.exit(f"error: {error}")
    except subprocess.CalledProcessError as error:
        sys.exit(
            f"error: {' '.join(map(str, error.cmd))} exited with {error.returncode}"
        )
