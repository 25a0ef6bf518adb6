"""Starting workflows from Django code: signals, admin actions, views and
management commands all go through here.

- A Temporal client belongs to the event loop that created it, so each start
  connects inside its own coroutine; the sync functions wrap the async ones
  with `async_to_sync` and can be called from any sync code.
- Workflow ids are deterministic (`onboarding-<user_id>`), and a start whose
  id already ran or runs is a no-op, so a repeated start never duplicates.
- Model signals start workflows through `transaction.on_commit`, so nothing
  starts for a row that was rolled back (see temporal_app.signals).
"""

import contextlib
import uuid
from typing import Protocol

from asgiref.sync import async_to_sync
from django.conf import settings
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from apps.users.services import USER_SELECTIONS

from .client import connect
from .workflows import (
    BatchProcessingWorkflow,
    BatchProcessingWorkflowInput,
    OnboardingWorkflowInput,
    UserOnboardingWorkflow,
)

# A list of ids travels in the workflow's input: 50,000 ids are about 0.3 MB
# of JSON, well below Temporal's 2 MB payload limit (and its 512 KB warning).
# Larger batches use a selection, which the workflow pages through.
MAX_BATCH_IDS = 50_000


class OnboardingUser(Protocol):
    pk: int
    email: str
    display_name: str


class BatchTooLargeError(ValueError):
    pass


def onboarding_workflow_id(user_id: int) -> str:
    return f"onboarding-{user_id}"


def workflow_url(workflow_id: str) -> str:
    """Where the Temporal Web UI shows a workflow."""
    return (
        f"{settings.TEMPORAL_UI_URL.rstrip('/')}/namespaces/"
        f"{settings.TEMPORAL_NAMESPACE}/workflows/{workflow_id}"
    )


async def astart_onboarding(user: OnboardingUser, **input_fields) -> str:
    """Start user_onboarding for `user` (once per user); return its id."""
    workflow_id = onboarding_workflow_id(user.pk)
    client = await connect()
    # A user onboarded before makes the server refuse the start: nothing to do.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            UserOnboardingWorkflow.run,
            OnboardingWorkflowInput(
                user_id=user.pk,
                email=user.email,
                name=user.display_name,
                **input_fields,
            ),
            id=workflow_id,
            task_queue=settings.TEMPORAL_TASK_QUEUE,
            # Running: join it. Already finished: refuse.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    return workflow_id


async def astart_batch(
    *,
    user_ids: list[int] | None = None,
    selection: str = "",
    action: str = "process",
    batch_id: str = "",
) -> str:
    """Start batch_processing for a list of ids or a named selection; return
    its workflow id (`batch-<batch_id>`; a fresh batch id by default)."""
    if bool(user_ids) == bool(selection):
        raise ValueError("Give either user_ids or a selection")
    if selection and selection not in USER_SELECTIONS:
        raise ValueError(
            f"Unknown selection {selection!r}; expected one of {sorted(USER_SELECTIONS)}"
        )
    if user_ids and len(user_ids) > MAX_BATCH_IDS:
        raise BatchTooLargeError(
            f"{len(user_ids):,} user ids are more than a batch carries "
            f"({MAX_BATCH_IDS:,}); use a selection instead, such as 'all' "
            f"(one of {sorted(USER_SELECTIONS)})"
        )
    batch_id = batch_id or f"{selection or 'users'}-{uuid.uuid4().hex[:12]}"
    workflow_id = f"batch-{batch_id}"
    client = await connect()
    handle: WorkflowHandle = await client.start_workflow(
        BatchProcessingWorkflow.run,
        BatchProcessingWorkflowInput(
            batch_id=batch_id,
            user_ids=list(user_ids or []),
            selection=selection,
            action=action,
        ),
        id=workflow_id,
        task_queue=settings.TEMPORAL_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return handle.id


start_onboarding = async_to_sync(astart_onboarding)
start_batch = async_to_sync(astart_batch)
