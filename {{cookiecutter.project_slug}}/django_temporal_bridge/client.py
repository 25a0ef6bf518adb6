"""Connecting to Temporal, as the environment configures it (see config.py).

- `connect()` opens a new client: the worker's, or a script's.
- `shared_client` is the one client that Django code shares in a process
  (views, signals, admin actions, commands). Temporal advises one client per
  process: each new one costs a connection, and a TLS handshake with a remote
  cluster. It connects on first use, on an event loop of its own in a daemon
  thread, so sync and async callers on any thread reuse it. Every operation
  has a budget, connecting included, so that Django never hangs on Temporal:
  a start in a request path TEMPORAL_CLIENT_START_TIMEOUT_SECONDS (short:
  the outbox and the reconcile schedule catch what it misses), anything else
  TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS or the caller's `timeout=` (enough
  for a few round trips a region away). Each RPC carries what is left of it
  as its gRPC deadline; past it, the call raises `TemporalUnavailable`.
- `sdk_runtime()` sends the log lines of the SDK's Rust core through Python
  logging (the LOGGING setting), so they get the project's format;
  `exit_now()` ends a process that used the SDK without crashing.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, NoReturn

from temporalio.client import Client, Interceptor, OutboundInterceptor
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
        interceptors=[*temporal_interceptors(), Deadlines()],
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
DEADLINE_STATUSES = {RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED}

# How long past its budget an operation may still run before it is cancelled
# from outside: an RPC ends at its own deadline (the SDK enforces it), but the
# SDK may retry a failed attempt with a deadline of its own.
BACKSTOP_SECONDS = 0.1

# When the shared-client operation in progress must be done (time.monotonic()).
_deadline: ContextVar[float | None] = ContextVar("temporal_deadline", default=None)


class Deadlines(Interceptor):
    """Gives each RPC of a shared-client operation what is left of the
    operation's budget as its gRPC deadline (the SDK's `rpc_timeout`): the
    SDK ends the call there, and the server, which is sent the deadline,
    stops working on it. Other clients' calls are left as they are."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _DeadlineOutbound(next)


class _DeadlineOutbound(OutboundInterceptor):
    """Each of the client's RPC methods, with the deadline set (below)."""


def _with_deadline(name: str):
    def method(self, input):
        deadline = _deadline.get()
        if deadline is not None:
            left = timedelta(seconds=max(deadline - time.monotonic(), 0.001))
            input.rpc_timeout = min(input.rpc_timeout or left, left)
        return getattr(self.next, name)(input)

    return method


for _name in [name for name in vars(OutboundInterceptor) if not name.startswith("_")]:
    setattr(_DeadlineOutbound, _name, _with_deadline(_name))


class _Budget:
    """An operation's time, connecting included, from now on; `setting`
    names it in errors ("" for a caller's own timeout=)."""

    def __init__(self, seconds: float, setting: str) -> None:
        self.seconds, self.setting = seconds, setting
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def spent(self) -> bool:
        return self.left() < 0.01  # timers may fire a little early

    def __str__(self) -> str:
        return f"{self.seconds:g} s" + (f" ({self.setting})" if self.setting else "")


class _ThreadLoop:
    """A thread's event loop for SharedClient.call. Kept in a thread-local,
    it goes when its thread ends, and closes the loop as it goes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()

    # Bound here: at the interpreter's exit, module globals may be gone.
    def __del__(self, getpid=os.getpid, suppress=contextlib.suppress) -> None:
        # A forked child's copy is its parent's: left alone. Collected with
        # a garbage cycle, its sockets may have been finalized first.
        if self.pid == getpid() and not self.loop.is_running():
            with suppress(ValueError, OSError):
                self.loop.close()


class SharedClient:
    """The process's one client for Django code.

    `call(operation)` from sync code and `await acall(operation)` from async
    code run `operation(client)` and return its result; `start(operation)`
    and `astart(operation)` do the same for a start in a request path, on its
    shorter budget. The SDK's client is not tied to an event loop: sync
    callers run operations on an event loop of their thread, kept for its
    next calls, and async callers on theirs, so a call costs no hop to
    another thread. Only connecting happens on the client's own loop (a
    daemon thread), so that one attempt serves them all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
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
        `timeout` seconds in all when given, else for
        TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS."""
        return self._sync(self._run(operation, _budget(timeout, RPC_TIMEOUT)))

    async def acall[T](
        self,
        operation: Callable[[Client], Awaitable[T]],
        *,
        timeout: float | None = None,
    ) -> T:
        """call(), for async code."""
        return await self._run(operation, _budget(timeout, RPC_TIMEOUT))

    def start[T](self, operation: Callable[[Client], Awaitable[T]]) -> T:
        """Run `operation(client)`, a start that something else catches up
        on when it fails (the outbox, a reconcile schedule), for
        TEMPORAL_CLIENT_START_TIMEOUT_SECONDS in all (sync code)."""
        return self._sync(self._run(operation, _budget(None, START_TIMEOUT)))

    async def astart[T](self, operation: Callable[[Client], Awaitable[T]]) -> T:
        """start(), for async code."""
        return await self._run(operation, _budget(None, START_TIMEOUT))

    def connect_soon(self) -> None:
        """Begin connecting, if not connected, without waiting: the first
        start then finds the client ready (a TLS handshake a region away
        takes most of a start's budget)."""
        self._connection_attempt()

    def _sync[T](self, running: Coroutine[Any, Any, T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no event loop in this thread: blocking is fine
        else:
            running.close()
            raise RuntimeError(
                "Waiting for Temporal would block this thread's event loop: "
                "use the async variant (acall, astart_*) here"
            )
        # A loop per thread, made anew in a forked child, closed when its
        # thread ends (ASGI servers run sync code on short-lived threads).
        thread = getattr(self._threads, "loop", None)
        if thread is None or thread.pid != os.getpid():
            thread = self._threads.loop = _ThreadLoop()
        return thread.loop.run_until_complete(running)

    async def _run[T](
        self, operation: Callable[[Client], Awaitable[T]], budget: _Budget
    ) -> T:
        client = await self._connected(budget)
        token = _deadline.set(budget.deadline)  # for its RPCs (Deadlines)
        try:
            async with asyncio.timeout(budget.left() + BACKSTOP_SECONDS):
                return await operation(client)
        except TimeoutError:
            raise TemporalUnavailable(
                f"Temporal at {_address(client)} did not answer within {budget}"
            ) from None
        except RPCError as error:
            # Past its deadline, an RPC ends as cancelled (by the SDK) or as
            # deadline exceeded (by the server).
            if budget.spent() and error.status in DEADLINE_STATUSES:
                raise TemporalUnavailable(
                    f"Temporal at {_address(client)} did not answer within {budget}"
                ) from error
            if error.status not in UNAVAILABLE_STATUSES:
                raise
            raise TemporalUnavailable(
                f"Temporal at {_address(client)} is unavailable: {error}"
            ) from error
        finally:
            _deadline.reset(token)

    async def _connected(self, budget: _Budget) -> Client:
        """The client for the current configuration, connecting when needed,
        waiting for the connection within `budget`.

        One connection attempt at a time, for TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS
        at most: a call whose budget ends first leaves it running, and the
        calls after it wait for the same attempt, each within its own budget.
        """
        connection, address = self._connection_attempt()
        if connection.done() and not connection.exception():
            return connection.result()
        waiting = asyncio.wrap_future(connection)
        # Its error is read here even when this call has stopped waiting.
        waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            async with asyncio.timeout(budget.left()):
                # Shielded: giving up waiting must not cancel the attempt.
                client = await asyncio.shield(waiting)
        except TimeoutError:
            raise TemporalUnavailable(
                f"Could not connect to Temporal at {address} within {budget}"
            ) from None
        except RuntimeError as error:  # the SDK's "Failed client connect: ..."
            raise TemporalUnavailable(
                f"Could not connect to Temporal at {address}: {error}"
            ) from error
        return client

    def _connection_attempt(self) -> tuple[concurrent.futures.Future[Client], str]:
        """The connection (made, or being made) for the current configuration,
        and the address it goes to; a new attempt when the last one failed."""
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
                self._connection, self._configuration = None, wanted
            if self._connection is None or (
                self._connection.done() and self._connection.exception()
            ):
                assert self._loop is not None
                self._connection = asyncio.run_coroutine_threadsafe(
                    _connect_within(setting(CONNECT_TIMEOUT)), self._loop
                )
            return self._connection, str(profile.address)


# The shared client's budgets (conf.py has their defaults).
START_TIMEOUT = "TEMPORAL_CLIENT_START_TIMEOUT_SECONDS"
RPC_TIMEOUT = "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS"
CONNECT_TIMEOUT = "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS"


def _budget(timeout: float | None, name: str) -> _Budget:
    """A caller's own `timeout`, else the setting `name`."""
    if timeout is not None:
        return _Budget(timeout, "")
    return _Budget(setting(name), name)


async def _connect_within(seconds: float) -> Client:
    try:
        async with asyncio.timeout(seconds):
            return await connect()
    except TimeoutError:
        raise RuntimeError(
            f"no connection within {seconds:g} s ({CONNECT_TIMEOUT})"
        ) from None


def _address(client: Client) -> str:
    return client.service_client.config.target_host


shared_client = SharedClient()
