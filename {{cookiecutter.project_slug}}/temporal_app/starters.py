"""Starting and steering workflows from Django code: signals, admin
actions, views and management commands all go through here.

- Every start goes through the process's shared client
  (`django_temporal_bridge.client.shared_client`) and is bounded in time: with Temporal
  down, a start raises `TemporalUnavailable` within the client timeouts.
  `start_*` are for sync code, `astart_*` for async code.
- Workflow ids are deterministic (`onboarding-<user_id>`), so a repeated start
  never duplicates: a running workflow is left alone, a completed one is not
  run again, and one that failed (or was cancelled, terminated or timed out)
  is started again. The returned `WorkflowStart` says which happened.
- Starts set the workflows' search attributes (temporal_app.search_attributes:
  `UserId`, `BatchId`), so a user's or a batch's runs can be listed; a server
  that lacks them refuses the start, and the error (`SearchAttributeMissing`,
  a `TemporalUnavailable`) says how to register them.
- `cancel_follow_up` asks a user's onboarding to skip its follow-up email
  (a workflow update) and says whether one was still pending;
  `cancel_follow_ups` asks many users' at once (the admin's action).
- Model signals start workflows through `transaction.on_commit`, so nothing
  starts for a row that was rolled back (see temporal_app.signals); a start
  that fails there is made later by the `reconcile-onboarding` schedule
  (temporal_app.schedules).
"""

import asyncio
import uuid
from enum import StrEnum
from typing import Protocol

from asgiref.sync import async_to_sync
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

from apps.users.services import USER_ACTIONS, USER_SELECTIONS, UnknownNameError
from django_temporal_bridge.client import TemporalUnavailable, shared_client
from django_temporal_bridge.starting import WorkflowStart, start_once

from .search_attributes import BATCH_ID, USER_ID
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


async def start_onboarding_with(
    client: Client, user: OnboardingUser, **input_fields
) -> WorkflowStart:
    """Start user_onboarding for `user` through the given client (the worker's
    own, in activities)."""
    return await start_once(
        client,
        UserOnboardingWorkflow.run,
        OnboardingWorkflowInput(
            user_id=user.pk,
            email=user.email,
            name=user.display_name,
            **input_fields,
        ),
        workflow_id=onboarding_workflow_id(user.pk),
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(USER_ID, user.pk)]
        ),
    )


async def astart_onboarding(user: OnboardingUser, **input_fields) -> WorkflowStart:
    """Start user_onboarding for `user`, unless it runs or completed."""
    return await shared_client.acall(
        lambda client: start_onboarding_with(client, user, **input_fields)
    )


def start_onboarding(user: OnboardingUser, **input_fields) -> WorkflowStart:
    """Start user_onboarding for `user`, unless it runs or completed."""
    return shared_client.call(
        lambda client: start_onboarding_with(client, user, **input_fields)
    )


class FollowUpCancellation(StrEnum):
    CANCELLED = "follow-up cancelled"
    NOTHING_PENDING = "no follow-up pending"
    NO_ONBOARDING = "no onboarding"


async def cancel_follow_up_with(client: Client, user_id: int) -> FollowUpCancellation:
    """Cancel the follow-up email of a user's onboarding through the given client."""
    handle = client.get_workflow_handle(onboarding_workflow_id(user_id))
    try:
        pending = await handle.execute_update(
            UserOnboardingWorkflow.cancel_pending_follow_up
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        # No such workflow, or it has ended (an update needs a running one).
        try:
            await handle.describe()
        except RPCError as describe_error:
            if describe_error.status != RPCStatusCode.NOT_FOUND:
                raise
            return FollowUpCancellation.NO_ONBOARDING
        return FollowUpCancellation.NOTHING_PENDING
    return (
        FollowUpCancellation.CANCELLED
        if pending
        else FollowUpCancellation.NOTHING_PENDING
    )


async def acancel_follow_up(user_id: int) -> FollowUpCancellation:
    """Ask a user's onboarding to skip its follow-up email, and say whether
    one was still pending. A running workflow answers through a worker: with
    none polling, this raises TemporalUnavailable when the call times out."""
    return await shared_client.acall(
        lambda client: cancel_follow_up_with(client, user_id)
    )


def cancel_follow_up(user_id: int) -> FollowUpCancellation:
    """Ask a user's onboarding to skip its follow-up email, and say whether
    one was still pending. A running workflow answers through a worker: with
    none polling, this raises TemporalUnavailable when the call times out."""
    return shared_client.call(lambda client: cancel_follow_up_with(client, user_id))


# At most this many onboardings are asked at once (cancel_follow_ups).
MAX_CONCURRENT_CANCELLATIONS = 20


def cancel_follow_ups(
    user_ids: list[int],
) -> dict[int, FollowUpCancellation | TemporalUnavailable]:
    """Cancel the follow-up email of each user's onboarding, in parallel;
    return each user's answer, or the TemporalUnavailable error of a user
    whose answer did not come (each call is bounded as `cancel_follow_up`)."""
    slots = asyncio.Semaphore(MAX_CONCURRENT_CANCELLATIONS)

    async def cancel(user_id: int) -> FollowUpCancellation | TemporalUnavailable:
        async with slots:
            try:
                return await acancel_follow_up(user_id)
            except TemporalUnavailable as error:
                return error

    async def cancel_all() -> list[FollowUpCancellation | TemporalUnavailable]:
        return await asyncio.gather(*map(cancel, user_ids))

    return dict(zip(user_ids, async_to_sync(cancel_all)(), strict=True))


def batch_input(
    *,
    user_ids: list[int] | None = None,
    selection: str = "",
    action: str = "process",
    batch_id: str = "",
) -> BatchProcessingWorkflowInput:
    """The input of a batch, checked before anything reaches Temporal."""
    if bool(user_ids) == bool(selection):
        raise ValueError("Give either user_ids or a selection")
    if selection and selection not in USER_SELECTIONS:
        raise UnknownNameError(
            f"Unknown user selection {selection!r}; "
            f"expected one of {sorted(USER_SELECTIONS)}"
        )
    if action not in USER_ACTIONS:
        raise UnknownNameError(
            f"Unknown user action {action!r}; expected one of {sorted(USER_ACTIONS)}"
        )
    if user_ids and len(user_ids) > MAX_BATCH_IDS:
        raise BatchTooLargeError(
            f"{len(user_ids):,} user ids are more than a batch carries "
            f"({MAX_BATCH_IDS:,}); use a selection instead, such as 'all' "
            f"(one of {sorted(USER_SELECTIONS)})"
        )
    return BatchProcessingWorkflowInput(
        batch_id=batch_id or f"{selection or 'users'}-{uuid.uuid4().hex[:12]}",
        user_ids=list(user_ids or []),
        selection=selection,
        action=action,
    )


async def start_batch_with(
    client: Client, input: BatchProcessingWorkflowInput
) -> WorkflowStart:
    """Start batch_processing with `input` through the given client; its id
    is `batch-<batch_id>`, and so is its BatchId search attribute."""
    return await start_once(
        client,
        BatchProcessingWorkflow.run,
        input,
        workflow_id=f"batch-{input.batch_id}",
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(BATCH_ID, input.batch_id)]
        ),
    )


async def astart_batch(
    *,
    user_ids: list[int] | None = None,
    selection: str = "",
    action: str = "process",
    batch_id: str = "",
) -> WorkflowStart:
    """Start batch_processing for a list of ids or a named selection; its id
    is `batch-<batch_id>` (a fresh batch id by default)."""
    input = batch_input(
        user_ids=user_ids, selection=selection, action=action, batch_id=batch_id
    )
    return await shared_client.acall(lambda client: start_batch_with(client, input))


def start_batch(
    *,
    user_ids: list[int] | None = None,
    selection: str = "",
    action: str = "process",
    batch_id: str = "",
) -> WorkflowStart:
    """Start batch_processing for a list of ids or a named selection; its id
    is `batch-<batch_id>` (a fresh batch id by default)."""
    input = batch_input(
        user_ids=user_ids, selection=selection, action=action, batch_id=batch_id
    )
    return shared_client.call(lambda client: start_batch_with(client, input))
