"""Connecting to Temporal, as the environment configures it (see config.py).

- `connect()` opens a new client: the worker's, or a script's.
- `shared_client` is the one client that Django code shares in a process
  (views, signals, admin actions, commands). Temporal advises one client per
  process: each new one costs a connection, and a TLS handshake with a remote
  cluster. It connects on first use, on an event loop of its own in a daemon
  thread, so sync and async callers on any thread reuse it, and it bounds
  every call so that Django never hangs on Temporal: connecting by
  TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS, each call by
  TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS. Past either, it raises
  `TemporalUnavailable`. A caller with a deadline of its own (an admin page)
  passes `timeout=`, which bounds the whole call, connecting included.
- `sdk_runtime()` sends the log lines of the SDK's Rust core through Python
  logging (the LOGGING setting), so they get the project's format;
  `exit_now()` ends a process that used the SDK without crashing.
"""

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode

from .checks import require_valid_client_settings
from .conf import setting
from .config import client_profile
from .encryption import PayloadKeys, data_converter, payload_keys
from .tracing import flush_tracing, temporal_interceptors

logger = logging.getLogger(__name__)


class TemporalUnavailable(Exception):
    """Temporal could not be reached, or did not answer in time."""


_runtimes: dict[tuple[int, str], Runtime] = {}


def sdk_runtime(metrics_bind_address: str = "") -> Runtime:
    """Return this process's SDK runtime, made once per metrics address.

    The Rust core's warnings and errors become records of the
    `temporalio.core` loggers instead of coloured text on stderr. With a
    host:port, the runtime also serves the SDK's metrics for Prometheus there
    (at /metrics).
    """
    key = (os.getpid(), metrics_bind_address)  # a forked child makes its own
    if key not in _runtimes:
        _runtimes[key] = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=LogForwardingConfig(
                        logger=logging.getLogger("temporalio.core")
                    ),
                ),
                metrics=PrometheusConfig(bind_address=metrics_bind_address)
                if metrics_bind_address
                else None,
            )
        )
    return _runtimes[key]


def sdk_used() -> bool:
    """Whether this process made an SDK runtime (a client or a worker)."""
    return any(pid == os.getpid() for pid, _ in _runtimes)


def exit_now(code: int | str | None) -> NoReturn:
    """End the process at once, flushing its output but skipping the
    interpreter's teardown, with `code` as sys.exit() takes it.

    After the SDK has run, its native (Rust) threads can still be releasing
    Python objects while the interpreter finalizes, which crashes the process
    (SIGSEGV) now and again (temporalio/sdk-python#300): a worker or a
    command that used a client ends through here instead.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    flush_tracing()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


async def connect(*, runtime: Runtime | None = None) -> Client:
    """Connect to the Temporal service the environment configures
    (django_temporal_bridge.config), encrypting payloads when
    TEMPORAL_PAYLOAD_KEYS is set (django_temporal_bridge.encryption), traced when
    tracing is on (django_temporal_bridge.tracing).

    `runtime` carries the SDK's telemetry settings (the worker passes one
    that exports Prometheus metrics); the default is `sdk_runtime()`. A bad
    configuration raises ImproperlyConfigured naming the variable, also in
    processes that run no system checks (gunicorn, uvicorn).
    """
    require_valid_client_settings()
    profile = client_profile()
    return await Client.connect(
        **profile.to_client_connect_config(),
        data_converter=data_converter(),
        runtime=runtime or sdk_runtime(),
        interceptors=temporal_interceptors(),
    )


async def connect_when_ready(
    timeout_seconds: float, *, runtime: Runtime | None = None
) -> Client:
    """Connect, retrying for up to `timeout_seconds` while the server starts
    (as with `make dev` or `docker compose up`)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return await connect(runtime=runtime)
        except RuntimeError as error:  # the SDK's "Failed client connect: ..."
            if time.monotonic() >= deadline:
                raise
            logger.warning("Temporal not reachable yet (%s); retrying", error)
            await asyncio.sleep(1)


# Answers that mean "Temporal is not there right now", not "the call is wrong".
UNAVAILABLE_STATUSES = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


class _ThreadLoop:
    """A thread's event loop for SharedClient.call. Kept in a thread-local,
    it goes when its thread ends, and closes the loop as it goes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()

    # getpid bound here: at the interpreter's exit, module globals may be gone.
    def __del__(self, getpid=os.getpid) -> None:
        # A forked child's copy is its parent's: left alone.
        if self.pid == getpid() and not self.loop.is_running():
            self.loop.close()


class SharedClient:
    """The process's one client for Django code.

    `call(operation)` from sync code and `await acall(operation)` from async
    code run `operation(client)` and return its result. The SDK's client is
    not tied to an event loop: sync callers run operations on an event loop
    of their thread, kept for its next calls, and async callers on theirs, so
    a call costs no hop to another thread. Only connecting happens on the
    client's own loop (a daemon thread), so that one attempt serves them all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        # What the client was made for: its connection profile and payload keys.
        self._configuration: tuple[ClientConfigProfile, PayloadKeys | None] | None
        self._configuration = None
        self._connection: concurrent.futures.Future[Client] | None = None
        self._threads = threading.local()

    def call[T](
        self,
        operation: Callable[[Client], Awaitable[T]],
        *,
        timeout: float | None = None,
    ) -> T:
        """Run `operation(client)` and wait for its result (sync code), for
        `timeout` seconds at most when given."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no event loop in this thread: blocking is fine
        else:
            raise RuntimeError(
                "Waiting for Temporal would block this thread's event loop: "
                "use the async variant (acall, astart_*) here"
            )
        # A loop per thread, made anew in a forked child, closed when its
        # thread ends (ASGI servers run sync code on short-lived threads).
        thread = getattr(self._threads, "loop", None)
        if thread is None or thread.pid != os.getpid():
            thread = self._threads.loop = _ThreadLoop()
        return thread.loop.run_until_complete(self._run(operation, timeout))

    async def acall[T](
        self,
        operation: Callable[[Client], Awaitable[T]],
        *,
        timeout: float | None = None,
    ) -> T:
        """Run `operation(client)` and await its result (async code), for
        `timeout` seconds at most when given."""
        return await self._run(operation, timeout)

    async def _run[T](
        self, operation: Callable[[Client], Awaitable[T]], timeout: float | None = None
    ) -> T:
        # An explicit timeout is the whole operation's budget, connecting
        # included, and replaces the per-call bound (an operation of several
        # round trips needs more than one call's worth); without one, each
        # operation gets TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS once connected.
        if timeout is not None:
            try:
                async with asyncio.timeout(timeout):
                    return await self._run_bounded(operation, None)
            except TimeoutError:
                raise TemporalUnavailable(
                    f"Temporal did not answer within {timeout:g} s"
                ) from None
        return await self._run_bounded(
            operation, setting("TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS")
        )

    async def _run_bounded[T](
        self, operation: Callable[[Client], Awaitable[T]], seconds: float | None
    ) -> T:
        client = await self._connected()
        try:
            async with asyncio.timeout(seconds):
                return await operation(client)
        except TimeoutError:
            raise TemporalUnavailable(
                f"Temporal at {_address(client)} did not answer within "
                f"{seconds:g} s (TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS)"
            ) from None
        except RPCError as error:
            if error.status not in UNAVAILABLE_STATUSES:
                raise
            raise TemporalUnavailable(
                f"Temporal at {_address(client)} is unavailable: {error}"
            ) from error

    async def _connected(self) -> Client:
        """The client for the current configuration, connecting when needed.

        One connection attempt at a time: a call that times out waiting for
        it leaves it running (the SDK cannot abandon it), and the calls after
        it wait for the same attempt, each for one connect timeout at most.
        """
        profile = client_profile()
        wanted = (profile, payload_keys())
        with self._lock:
            if self._pid != os.getpid():
                # First use, or a child forked from a process that used it
                # (gunicorn --preload): threads do not survive a fork.
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="temporal-client", daemon=True
                ).start()
                self._pid, self._configuration = os.getpid(), None
            if self._configuration != wanted:
                self._client, self._connection = None, None
                self._configuration = wanted
            if self._client is not None:
                return self._client
            if self._connection is None or (
                self._connection.done() and self._connection.exception()
            ):
                assert self._loop is not None
                self._connection = asyncio.run_coroutine_threadsafe(
                    connect(), self._loop
                )
            connection = self._connection
        seconds = setting("TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS")
        waiting = asyncio.wrap_future(connection)
        # Its error is read here even when this call has stopped waiting.
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            async with asyncio.timeout(seconds):
                # Shielded: giving up waiting must not cancel the attempt.
                client = await asyncio.shield(waiting)
        except TimeoutError:
            raise TemporalUnavailable(
                f"Could not connect to Temporal at {profile.address} "
                f"within {seconds:g} s (TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS)"
            ) from None
        except RuntimeError as error:  # the SDK's "Failed client connect: ..."
            raise TemporalUnavailable(
                f"Could not connect to Temporal at {profile.address}: {error}"
            ) from error
        with self._lock:
            if self._connection is connection:  # the configuration did not change
                self._client = client
        return client


def _address(client: Client) -> str:
    return client.service_client.config.target_host


shared_client = SharedClient()
