"""The users' onboarding states and workflows for the admin, bounded by
TEMPORAL_ADMIN_TIMEOUT_SECONDS like the package's Workflows page."""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError

from django_temporal_bridge.client import TemporalUnavailable, shared_client
from django_temporal_bridge.conf import setting
from django_temporal_bridge.config import workflow_url
from django_temporal_bridge.visibility import (
    WorkflowRun,
    bounded,
    quoted,
    status_label,
)

from .search_attributes import USER_ID
from .starters import onboarding_workflow_id
from .workflows import UserOnboardingWorkflow

MAX_USER_WORKFLOWS = 20  # workflows listed for one user


@dataclass(frozen=True)
class OnboardingState:
    """A user's latest onboarding run; `known` is False if Temporal was late."""

    workflow_id: str
    known: bool = True
    status: WorkflowExecutionStatus | None = None  # None: never started
    step: str = ""  # the `status` query's answer while it runs

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


async def _step(client: Client, workflow_id: str) -> str:
    """A running onboarding's `status` query; "" if no worker answers."""
    try:
        return await client.get_workflow_handle(workflow_id).query(
            UserOnboardingWorkflow.status
        )
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        return ""


async def onboarding_states_with(
    client: Client, user_ids: Iterable[int], *, query_timeout: float
) -> dict[int, OnboardingState]:
    """Each user's onboarding: one list request, then the running ones' queries."""
    workflow_ids = {onboarding_workflow_id(pk): pk for pk in user_ids}
    if not workflow_ids:
        return {}
    # By workflow id rather than UserId: runs started before the search
    # attribute existed have none. A restarted onboarding has several runs.
    query = f"WorkflowId IN ({', '.join(map(quoted, workflow_ids))})"
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
    """Each user's onboarding state, all "unknown" if Temporal is late."""
    user_ids = list(user_ids)
    timeout = timeout or setting("TEMPORAL_ADMIN_TIMEOUT_SECONDS")
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
    """Each user's onboarding state, all "unknown" if Temporal is late."""
    user_ids = list(user_ids)
    timeout = timeout or setting("TEMPORAL_ADMIN_TIMEOUT_SECONDS")
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
    """The latest runs tagged with the user's UserId, most recent first."""
    query = f"{USER_ID.name} = {int(user_id)}"
    runs = [
        WorkflowRun.of(execution)
        async for execution in client.list_workflows(
            query, limit=MAX_USER_WORKFLOWS, page_size=MAX_USER_WORKFLOWS
        )
    ]
    return sorted(runs, key=lambda run: run.start_time, reverse=True)


def user_workflows(user_id: int, *, timeout: float | None = None) -> list[WorkflowRun]:
    """user_workflows_with, bounded (TemporalUnavailable if Temporal is late)."""
    return bounded(lambda client: user_workflows_with(client, user_id), timeout)
