"""Starting and steering the example workflows from Django (sync and `a*` async).

Bounded by the shared client (TemporalUnavailable). Ids are deterministic: a
repeated start leaves a running or completed run alone, restarts a failed one.
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

from apps.users.services import USER_ACTIONS, USER_SELECTIONS, lookup
from django_temporal_bridge.client import TemporalUnavailable, shared_client
from django_temporal_bridge.starting import WorkflowStart, start_once

from .search_attributes import BATCH_ID, USER_ID
from .workflows import (
    BatchProcessingWorkflow,
    BatchProcessingWorkflowInput,
    OnboardingWorkflowInput,
    UserOnboardingWorkflow,
)

# Ids travel in the input: 50,000 are about 0.3 MB of JSON, below Temporal's
# 512 KB warning. Larger batches use a selection.
MAX_BATCH_IDS = 50_000


class OnboardingUser(Protocol):
    pk: int
    email: str

    @property
    def mail_name(self) -> str: ...


class BatchTooLargeError(ValueError):
    pass


def onboarding_workflow_id(user_id: int) -> str:
    return f"onboarding-{user_id}"


async def start_onboarding_with(
    client: Client, user: OnboardingUser, **input_fields
) -> WorkflowStart:
    """Start user_onboarding for `user` through `client` (an activity's own)."""
    return await start_once(
        client,
        UserOnboardingWorkflow.run,
        OnboardingWorkflowInput(
            user_id=user.pk,
            email=user.email,
            name=user.mail_name,
            **input_fields,
        ),
        workflow_id=onboarding_workflow_id(user.pk),
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(USER_ID, user.pk)]
        ),
    )


async def astart_onboarding(user: OnboardingUser, **input_fields) -> WorkflowStart:
    """Start user_onboarding for `user`, unless it runs or completed."""
    return await shared_client.astart(
        lambda client: start_onboarding_with(client, user, **input_fields)
    )


def start_onboarding(user: OnboardingUser, **input_fields) -> WorkflowStart:
    """Start user_onboarding for `user`, unless it runs or completed."""
    return shared_client.start(
        lambda client: start_onboarding_with(client, user, **input_fields)
    )


class FollowUpCancellation(StrEnum):
    CANCELLED = "follow-up cancelled"
    NOTHING_PENDING = "no follow-up pending"
    NO_ONBOARDING = "no onboarding"


async def cancel_follow_up_with(client: Client, user_id: int) -> FollowUpCancellation:
    """Cancel the follow-up email of a user's onboarding through the given client."""
    handle = client.get_workflow_handle(onboarding_workflow_id(user_id))
    # A worker answers: with none polling, this times out (TemporalUnavailable).
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
    """Ask a user's onboarding to skip its follow-up email; say if one was due."""
    return await shared_client.acall(
        lambda client: cancel_follow_up_with(client, user_id)
    )


def cancel_follow_up(user_id: int) -> FollowUpCancellation:
    """Ask a user's onboarding to skip its follow-up email; say if one was due."""
    return shared_client.call(lambda client: cancel_follow_up_with(client, user_id))


# Onboardings asked at once by cancel_follow_ups.
MAX_CONCURRENT_CANCELLATIONS = 20


def cancel_follow_ups(
    user_ids: list[int],
) -> dict[int, FollowUpCancellation | TemporalUnavailable]:
    """Cancel each user's follow-up in parallel: each one's answer or error."""
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
    if selection:
        lookup(USER_SELECTIONS, selection, "selection")  # UnknownNameError
    lookup(USER_ACTIONS, action, "action")
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
    """Start batch_processing as `batch-<batch_id>`, tagged with its BatchId."""
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
    """Start batch_processing for a list of ids or a named selection."""
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
    """Start batch_processing for a list of ids or a named selection."""
    input = batch_input(
        user_ids=user_ids, selection=selection, action=action, batch_id=batch_id
    )
    return shared_client.call(lambda client: start_batch_with(client, input))
