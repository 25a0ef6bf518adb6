"""The template's own Docker engine, for the Compose smoke run.

It is private on purpose: its socket and state are the template's, never the
Docker you may run yourself, because the stand-in images take official names
(`python:3.13-slim`, `postgres:17`) and must not shadow the real ones. Images
and build cache persist under the cache directory between runs; the socket and
runtime state live in a short temporary path (Unix socket paths are limited).
Needs root and Debian's `docker.io` (DESIGN.md §5 gives the flags used here).
"""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CACHE_DIR = Path(
    os.environ.get(
        "TEMPLATE_TEST_CACHE", Path.home() / ".cache" / "cookiecutter-django-temporal"
    )
)
DATA_ROOT = CACHE_DIR / "docker"
RUN_DIR = Path("/tmp/cookiecutter-django-temporal-docker")
SOCKET = RUN_DIR / "docker.sock"
PIDFILE = RUN_DIR / "dockerd.pid"
LOG = DATA_ROOT.parent / "dockerd.log"
DOCKER_HOST = f"unix://{SOCKET}"
START_TIMEOUT = 60


class EngineError(RuntimeError):
    """The engine is missing or would not start; the message says what to do."""


class _UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(SOCKET))


def answers(timeout: float = 2.0) -> bool:
    """Whether the engine at SOCKET answers its ping."""
    connection = _UnixConnection("localhost", timeout=timeout)
    try:
        connection.request("GET", "/_ping")
        return connection.getresponse().read() == b"OK"
    except OSError:
        return False
    finally:
        connection.close()


def env() -> dict[str, str]:
    """The environment of a docker or docker-compose call on this engine."""
    return {**os.environ, "DOCKER_HOST": DOCKER_HOST}


def start() -> bool:
    """Make sure the engine answers; True if this call started it."""
    if answers():
        return False
    dockerd = shutil.which("dockerd")
    if dockerd is None or shutil.which("docker") is None:
        raise EngineError(
            "dockerd or docker not found: install Debian's Docker engine "
            "(apt-get install docker.io; .ci/run does)"
        )
    if os.geteuid() != 0:
        raise EngineError("starting the Docker engine needs root")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    SOCKET.unlink(missing_ok=True)
    with LOG.open("ab") as log:
        subprocess.Popen(
            [
                dockerd,
                f"--host={DOCKER_HOST}",
                f"--data-root={DATA_ROOT}",
                f"--exec-root={RUN_DIR / 'exec'}",
                f"--pidfile={PIDFILE}",
                # This machine: cgroups v1 without systemd, and a hard limit
                # of 20000 open files that containers must stay under.
                "--exec-opt=native.cgroupdriver=cgroupfs",
                "--default-ulimit=nofile=20000:20000",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives a Ctrl-C of the caller
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not answers():
        if time.monotonic() > deadline:
            tail = LOG.read_text(errors="replace")[-2000:]
            raise EngineError(f"dockerd did not answer in {START_TIMEOUT} s:\n{tail}")
        time.sleep(0.2)
    return True


def stop() -> None:
    """Stop the engine started by start() (its containers stop with it)."""
    try:
        pid = int(PIDFILE.read_text())
    except (FileNotFoundError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:  # reaped if this process started it, else not our child
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
