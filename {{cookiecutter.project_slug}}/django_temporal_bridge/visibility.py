"""Reading workflows back from Temporal's visibility store for Django pages:
the state of given workflows (their latest run, and what a running one's
query says), and a page of the project's task queue's recent runs.

Pages must not wait on Temporal: each call runs on the shared client within
`timeout` seconds in all, connecting included (TEMPORAL_ADMIN_TIMEOUT_SECONDS
by default), and raises TemporalUnavailable past it. The store follows the
workflows with a short delay: a run started a moment ago may not be listed.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError, RPCStatusCode

from .client import TemporalUnavailable, shared_client
from .conf import setting
from .config import workflow_url


def status_label(status: WorkflowExecutionStatus | None) -> str:
    """A status as people read it ("continued as new")."""
    return status.name.lower().replace("_", " ") if status else "unknown"


def quoted(value: str) -> str:
    """A string literal of Temporal's list filter."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class WorkflowRun:
    """One run of a workflow, as the visibility store lists it."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: WorkflowExecutionStatus | None
    start_time: datetime

    @classmethod
    def of(cls, execution: WorkflowExecution) -> "WorkflowRun":
        return cls(
            workflow_id=execution.id,
            run_id=execution.run_id,
            workflow_type=execution.workflow_type,
            status=execution.status,
            start_time=execution.start_time,
        )

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def url(self) -> str:
        """The run in the Temporal Web UI."""
        return f"{workflow_url(self.workflow_id)}/{quote(self.run_id, safe='')}/history"


@dataclass(frozen=True)
class WorkflowPage:
    """A page of runs, and the token of the next one (None: the last page)."""

    runs: list[WorkflowRun]
    next_page_token: bytes | None


def bounded[T](operation: Callable[[Client], Awaitable[T]], timeout: float | None) -> T:
    """`shared_client.call(operation)` within `timeout` seconds, or the
    admin pages' TEMPORAL_ADMIN_TIMEOUT_SECONDS."""
    return shared_client.call(
        operation, timeout=timeout or setting("TEMPORAL_ADMIN_TIMEOUT_SECONDS")
    )


async def recent_workflows_with(
    client: Client, *, page_size: int, page_token: bytes | None = None
) -> WorkflowPage:
    """A page of the runs on the project's task queue (the server lists the
    running ones first, then the most recently closed)."""
    query = f"TaskQueue = {quoted(settings.TEMPORAL_TASK_QUEUE)}"
    listing = client.list_workflows(
        query, page_size=page_size, next_page_token=page_token
    )
    await listing.fetch_next_page()
    return WorkflowPage(
        runs=[WorkflowRun.of(execution) for execution in listing.current_page or []],
        next_page_token=listing.next_page_token or None,
    )


def recent_workflows(
    *, page_size: int, page_token: bytes | None = None, timeout: float | None = None
) -> WorkflowPage:
    """A page of the runs on the project's task queue, from the token of the
    previous page (None: the first)."""
    return bounded(
        lambda client: recent_workflows_with(
            client, page_size=page_size, page_token=page_token
        ),
        timeout,
    )


@dataclass(frozen=True)
class WorkflowState:
    """A workflow's latest run as Temporal lists it, and while it runs what
    its query answers; `known` is False when Temporal did not answer in time."""

    workflow_id: str
    known: bool = True
    status: WorkflowExecutionStatus | None = None  # None: never started
    step: str = ""  # the query's answer while it runs

    def __str__(self) -> str:
        if not self.known:
            return "unknown"
        if self.status is None:
            return "not started"
        if self.status == WorkflowExecutionStatus.RUNNING:
            return self.step or "running"
        return status_label(self.status)

    @property
    def url(self) -> str:
        return workflow_url(self.workflow_id)


async def _ask(client: Client, workflow_id: str, query: Callable | None) -> str:
    """A running workflow's answer to `query`; "" when it has none to give
    (no worker polls, its workflow task fails)."""
    if query is None:
        return ""
    try:
        return await client.get_workflow_handle(workflow_id).query(query)
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return ""


async def workflow_state_with(
    client: Client, workflow_id: str, *, query: Callable | None = None
) -> WorkflowState:
    """One workflow's state, described by the server (no visibility delay,
    for a page that follows a workflow it just started)."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return WorkflowState(workflow_id)
        raise
    status = description.status or WorkflowExecutionStatus.RUNNING
    running = status == WorkflowExecutionStatus.RUNNING
    step = await _ask(client, workflow_id, query) if running else ""
    return WorkflowState(workflow_id, status=status, step=step)


async def workflow_states_with(
    client: Client,
    workflow_ids: Iterable[str],
    *,
    query: Callable | None = None,
    query_timeout: float,
) -> dict[str, WorkflowState]:
    """One list request for the latest run of each id (a restarted workflow
    has several), then `query` asked of the running ones at once, each
    given up ("") after `query_timeout` seconds or when no worker answers."""
    workflow_ids = list(workflow_ids)
    if not workflow_ids:
        return {}
    listing = f"WorkflowId IN ({', '.join(map(quoted, workflow_ids))})"
    latest: dict[str, WorkflowExecution] = {}
    async for run in client.list_workflows(listing, page_size=len(workflow_ids) * 2):
        if run.id not in latest or run.start_time > latest[run.id].start_time:
            latest[run.id] = run

    async def step(workflow_id: str) -> str:
        if latest[workflow_id].status != WorkflowExecutionStatus.RUNNING:
            return ""
        try:
            async with asyncio.timeout(query_timeout):
                return await _ask(client, workflow_id, query)
        except TimeoutError:
            return ""

    steps = await asyncio.gather(*map(step, latest))
    found = {
        workflow_id: WorkflowState(workflow_id, status=run.status, step=text)
        for (workflow_id, run), text in zip(latest.items(), steps, strict=True)
    }
    return {
        workflow_id: found.get(workflow_id, WorkflowState(workflow_id))
        for workflow_id in workflow_ids
    }


def _states_call(workflow_ids: list[str], query, timeout: float | None):
    """The operation and the deadline of (a)workflow_states: the queries get
    half of the time, the list the rest."""
    timeout = timeout or setting("TEMPORAL_ADMIN_TIMEOUT_SECONDS")

    def operation(client: Client) -> Awaitable[dict[str, WorkflowState]]:
        return workflow_states_with(
            client, workflow_ids, query=query, query_timeout=timeout / 2
        )

    return operation, timeout


def _unknown(workflow_ids: list[str]) -> dict[str, WorkflowState]:
    return {
        workflow_id: WorkflowState(workflow_id, known=False)
        for workflow_id in workflow_ids
    }


def workflow_states(
    workflow_ids: Iterable[str],
    *,
    query: Callable | None = None,
    timeout: float | None = None,
) -> dict[str, WorkflowState]:
    """The state of each workflow; all unknown when Temporal does not answer
    within `timeout` seconds (TEMPORAL_ADMIN_TIMEOUT_SECONDS)."""
    workflow_ids = list(workflow_ids)
    operation, timeout = _states_call(workflow_ids, query, timeout)
    try:
        return shared_client.call(operation, timeout=timeout)
    except TemporalUnavailable:
        return _unknown(workflow_ids)


async def aworkflow_states(
    workflow_ids: Iterable[str],
    *,
    query: Callable | None = None,
    timeout: float | None = None,
) -> dict[str, WorkflowState]:
    """workflow_states, for async code."""
    workflow_ids = list(workflow_ids)
    operation, timeout = _states_call(workflow_ids, query, timeout)
    try:
        return await shared_client.acall(operation, timeout=timeout)
    except TemporalUnavailable:
        return _unknown(workflow_ids)
