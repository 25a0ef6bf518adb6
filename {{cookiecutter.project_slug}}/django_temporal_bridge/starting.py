"""Starting a workflow once per deterministic id, as Django code should:
a repeated start (a retried request, a second signal, a reconcile run)
never duplicates a workflow, and says what it found."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from .config import workflow_url
from .search_attributes import missing_attribute_error


class StartOutcome(StrEnum):
    STARTED = "started"
    RESTARTED = "started again (the last run did not complete)"
    RUNNING = "already running"
    COMPLETED = "already done"


@dataclass(frozen=True)
class WorkflowStart:
    """What a start did: the workflow's id, and what happened to it."""

    workflow_id: str
    outcome: StartOutcome

    @property
    def url(self) -> str:
        return workflow_url(self.workflow_id)


async def start_once(
    client: Client,
    workflow: Any,
    input: Any,
    *,
    workflow_id: str,
    search_attributes: TypedSearchAttributes = TypedSearchAttributes.empty,
) -> WorkflowStart:
    """Start `workflow` on TEMPORAL_TASK_QUEUE under `workflow_id`, unless
    it runs or ran to completion; one that failed, was cancelled, terminated
    or timed out is started again. One request when the id is new; a repeat
    costs a look-up more. A server that lacks one of the `search_attributes`
    raises SearchAttributeMissing (a TemporalUnavailable) saying how to
    register it."""

    async def start(reuse: WorkflowIDReusePolicy) -> None:
        try:
            await client.start_workflow(
                workflow,
                input,
                id=workflow_id,
                task_queue=settings.TEMPORAL_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=reuse,
                search_attributes=search_attributes,
            )
        except RPCError as error:
            keys = [pair.key for pair in search_attributes]
            missing = missing_attribute_error(error, client.namespace, keys)
            if missing is None:
                raise
            raise missing from error

    try:
        await start(WorkflowIDReusePolicy.REJECT_DUPLICATE)
        return WorkflowStart(workflow_id, StartOutcome.STARTED)
    except WorkflowAlreadyStartedError:
        pass  # it runs, or ran: find out how it ended
    status = (await client.get_workflow_handle(workflow_id).describe()).status
    if status == WorkflowExecutionStatus.RUNNING:
        return WorkflowStart(workflow_id, StartOutcome.RUNNING)
    if status in (
        WorkflowExecutionStatus.COMPLETED,
        WorkflowExecutionStatus.CONTINUED_AS_NEW,
    ):
        return WorkflowStart(workflow_id, StartOutcome.COMPLETED)
    # Failed, cancelled, terminated or timed out: the work is not done.
    try:
        await start(WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY)
    except WorkflowAlreadyStartedError:  # another caller restarted it first
        return WorkflowStart(workflow_id, StartOutcome.RUNNING)
    return WorkflowStart(workflow_id, StartOutcome.RESTARTED)
