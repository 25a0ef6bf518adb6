"""The users' onboarding states and workflows for the admin, bounded by
TEMPORAL_ADMIN_TIMEOUT_SECONDS like the package's Workflows page."""

from collections.abc import Iterable

from temporalio.client import Client

from django_temporal_bridge.visibility import (
    WorkflowRun,
    WorkflowState,
    bounded,
    workflow_states,
)

from .search_attributes import USER_ID
from .starters import onboarding_workflow_id
from .workflows import UserOnboardingWorkflow

MAX_USER_WORKFLOWS = 20  # workflows listed for one user


# By workflow id rather than UserId: runs started before the search attribute
# existed have none.
def onboarding_states(
    user_ids: Iterable[int], *, timeout: float | None = None
) -> dict[int, WorkflowState]:
    """Each user's onboarding state, all "unknown" if Temporal is late."""
    ids = {onboarding_workflow_id(pk): pk for pk in user_ids}
    states = workflow_states(ids, query=UserOnboardingWorkflow.status, timeout=timeout)
    return {ids[workflow_id]: state for workflow_id, state in states.items()}


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
