"""Reading workflows from Django code: the users' onboarding states, a user's
workflows (by the UserId search attribute), and the recent runs of the
project's task queue. The admin shows them (temporal_app/admin.py); a page
of the site can too.

Pages must not wait on Temporal: each function runs in one call of the
shared client bounded by `timeout` seconds in all, connecting included
(TEMPORAL_ADMIN_TIMEOUT_SECONDS by default). `onboarding_states` then says
"unknown"; the others raise TemporalUnavailable for the page to say so.

Listing goes through Temporal's visibility store, which follows the
workflows with a short delay: a workflow started a moment ago may not be
listed yet.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError

from django_temporal_bridge.client import TemporalUnavailable, shared_client
from django_temporal_bridge.config import workflow_url

from .search_attributes import USER_ID
from .starters import onboarding_workflow_id
from .workflows import UserOnboardingWorkflow

# At most this many workflows are listed for one user.
MAX_USER_WORKFLOWS = 20


def status_label(status: WorkflowExecutionStatus | None) -> str:
    """Return a status as people read it ("continued as new")."""
    return status.name.lower().replace("_", " ") if status else "unknown"


@dataclass(frozen=True)
class OnboardingState:
    """A user's onboarding as Temporal last reported it: the latest run's
    status and, while it runs, what it says it is doing (its `status`
    query). `known` is False when Temporal did not answer in time."""

    workflow_id: str
    known: bool = True
    status: WorkflowExecutionStatus | None = None  # None: never started
    step: str = ""  # the status query's answer ("waiting to follow up")

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
        return f"{workflow_url(self.workflow_id)}/{self.run_id}/history"


@dataclass(frozen=True)
class WorkflowPage:
    """A page of runs, and the token of the next one (None: the last page)."""

    runs: list[WorkflowRun]
    next_page_token: bytes | None


def _quoted(value: str) -> str:
    """A string literal of Temporal's list filter."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def _step(client: Client, workflow_id: str) -> str:
    """What a running onboarding says it is doing; "" when it does not answer
    (no worker polls its task queue, say)."""
    try:
        return await client.get_workflow_handle(workflow_id).query(
            UserOnboardingWorkflow.status
        )
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return ""


async def onboarding_states_with(
    client: Client, user_ids: Iterable[int], *, query_timeout: float
) -> dict[int, OnboardingState]:
    """Return the onboarding state of each user: one list request for all
    of them, then the `status` query of the running ones at once, each
    given up after `query_timeout` seconds."""
    workflow_ids = {onboarding_workflow_id(pk): pk for pk in user_ids}
    if not workflow_ids:
        return {}
    # By workflow id rather than UserId: runs started before the search
    # attribute existed have none. A restarted onboarding has several runs.
    query = f"WorkflowId IN ({', '.join(map(_quoted, workflow_ids))})"
    latest: dict[str, WorkflowExecution] = {}
    async for run in client.list_workflows(query, page_size=len(workflow_ids) * 2):
        if run.id not in latest or run.start_time > latest[run.id].start_time:
            latest[run.id] = run
    running = [
        workflow_id
        for workflow_id, run in latest.items()
        if run.status == WorkflowExecutionStatus.RUNNING
    ]

    async def step(workflow_id: str) -> str:
        try:
            async with asyncio.timeout(query_timeout):
                return await _step(client, workflow_id)
        except TimeoutError:
            return ""

    steps = dict(zip(running, await asyncio.gather(*map(step, running)), strict=True))
    return {
        pk: OnboardingState(
            workflow_id,
            status=latest[workflow_id].status if workflow_id in latest else None,
            step=steps.get(workflow_id, ""),
        )
        for workflow_id, pk in workflow_ids.items()
    }


def _unknown(user_ids: Iterable[int]) -> dict[int, OnboardingState]:
    return {
        pk: OnboardingState(onboarding_workflow_id(pk), known=False) for pk in user_ids
    }


def onboarding_states(
    user_ids: Iterable[int], *, timeout: float | None = None
) -> dict[int, OnboardingState]:
    """Return the onboarding state of each user, "unknown" for all of them
    when Temporal does not answer within `timeout` seconds."""
    user_ids = list(user_ids)
    timeout = timeout or settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS
    try:
        return shared_client.call(
            # The queries get half the time: the list needs the rest.
            lambda client: onboarding_states_with(
                client, user_ids, query_timeout=timeout / 2
            ),
            timeout=timeout,
        )
    except TemporalUnavailable:
        return _unknown(user_ids)


async def aonboarding_states(
    user_ids: Iterable[int], *, timeout: float | None = None
) -> dict[int, OnboardingState]:
    """Return the onboarding state of each user, "unknown" for all of them
    when Temporal does not answer within `timeout` seconds."""
    user_ids = list(user_ids)
    timeout = timeout or settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS
    try:
        return await shared_client.acall(
            lambda client: onboarding_states_with(
                client, user_ids, query_timeout=timeout / 2
            ),
            timeout=timeout,
        )
    except TemporalUnavailable:
        return _unknown(user_ids)


async def user_workflows_with(client: Client, user_id: int) -> list[WorkflowRun]:
    """Return the runs that carry the user's id (UserId), at most
    MAX_USER_WORKFLOWS of them, the most recent first."""
    query = f"{USER_ID.name} = {int(user_id)}"
    runs = [
        WorkflowRun.of(execution)
        async for execution in client.list_workflows(
            query, limit=MAX_USER_WORKFLOWS, page_size=MAX_USER_WORKFLOWS
        )
    ]
    return sorted(runs, key=lambda run: run.start_time, reverse=True)


def user_workflows(user_id: int, *, timeout: float | None = None) -> list[WorkflowRun]:
    """Return the runs that carry the user's id (UserId), at most
    MAX_USER_WORKFLOWS of them, the most recent first. Raise
    TemporalUnavailable when Temporal does not answer within `timeout` seconds."""
    return shared_client.call(
        lambda client: user_workflows_with(client, user_id),
        timeout=timeout or settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS,
    )


async def recent_workflows_with(
    client: Client, *, page_size: int, page_token: bytes | None = None
) -> WorkflowPage:
    """Return a page of the runs on the project's task queue (the server
    lists running ones first, then the most recently closed)."""
    query = f"TaskQueue = {_quoted(settings.TEMPORAL_TASK_QUEUE)}"
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
    """Return a page of the runs on the project's task queue, from the page
    token of the previous page (None: the first). Raise TemporalUnavailable
    when Temporal does not answer within `timeout` seconds."""
    return shared_client.call(
        lambda client: recent_workflows_with(
            client, page_size=page_size, page_token=page_token
        ),
        timeout=timeout or settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS,
    )
