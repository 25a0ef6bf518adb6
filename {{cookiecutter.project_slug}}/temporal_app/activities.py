{% if cookiecutter.example_workflows -%}
"""The example workflows' activities: their side effects, each safe to repeat.

New payload fields need defaults: runs in flight send payloads without them.
"""

import asyncio
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from temporalio import activity
from temporalio.exceptions import ApplicationError

from apps.users.services import (
    UnknownNameError,
    apply_user_action,
    apply_user_action_to_range,
    user_id_ranges,
    user_ids_page,
    users_page,
)

from .services import send_email_once


@dataclass
class EmailPayload:
    to: str
    subject: str
    body: str
    from_email: str | None = None
    # Same key, same email (a retry sends nothing); empty: always send.
    idempotency_key: str = ""


@dataclass
class UserProcessingPayload:
    user_id: int
    action: str = "process"


@dataclass
class UserChunkPayload:
    """A chunk of a batch: bulk ORM work for many users in one activity."""

    user_ids: list[int]
    action: str = "process"


@dataclass
class UserPagePayload:
    """A page of a named selection's user ids, after `after_id`."""

    selection: str
    after_id: int
    limit: int


@dataclass
class UserRangesPayload:
    """Plan `count` ranges of `size` users of a selection after `after_id`."""

    selection: str
    after_id: int
    size: int
    count: int


@dataclass
class UserRange:
    """A selection's users with after_id < id <= last_id (`size` when planned)."""

    after_id: int
    last_id: int
    size: int


@dataclass
class UserRangePayload:
    """A range of a batch over a selection, for one activity."""

    selection: str
    after_id: int
    last_id: int
    action: str = "process"


@activity.defn
async def send_email_activity(payload: EmailPayload) -> dict:
    """Send one email through Django's configured email backend, once."""
    sent_now = await sync_to_async(send_email_once)(
        to=payload.to,
        subject=payload.subject,
        body=payload.body,
        from_email=payload.from_email or settings.DEFAULT_FROM_EMAIL,
        idempotency_key=payload.idempotency_key,
    )
    return {"status": "sent", "to": payload.to, "already_sent": not sent_now}


@activity.defn
async def process_user_activity(payload: UserProcessingPayload) -> dict:
    """Apply an action (see apps.users.services.USER_ACTIONS) to one user."""
    missing = await _apply_user_action([payload.user_id], payload.action)
    if missing:
        # Retrying cannot make a deleted user reappear: fail the workflow step.
        raise ApplicationError(
            f"User {payload.user_id} does not exist",
            type="UserNotFound",
            non_retryable=True,
        )
    return {"status": "processed", "user_id": payload.user_id, "action": payload.action}


# Users per bulk update in a chunk; the chunk heartbeats after each.
HEARTBEAT_EVERY = 250


@activity.defn
async def process_user_chunk_activity(payload: UserChunkPayload) -> dict:
    """Apply an action to many users; report the ids that are missing."""
    # A retry (after a worker died) resumes after the last slice heartbeated.
    done, missing = 0, []
    if details := activity.info().heartbeat_details:
        done, missing = details[0]["done"], details[0]["failed_ids"]
    ids = payload.user_ids
    for start in range(done, len(ids), HEARTBEAT_EVERY):
        piece = ids[start : start + HEARTBEAT_EVERY]
        missing += await _apply_user_action(piece, payload.action)
        activity.heartbeat({"done": start + len(piece), "failed_ids": missing})
    return {"processed": len(ids) - len(missing), "failed_ids": missing}


@activity.defn
async def fetch_user_ids_activity(payload: UserPagePayload) -> list[int]:
    """The next page of a selection's user ids (see USER_SELECTIONS)."""
    return await _on_users(
        user_ids_page, payload.selection, after_id=payload.after_id, limit=payload.limit
    )


@activity.defn
async def plan_user_ranges_activity(payload: UserRangesPayload) -> list[UserRange]:
    """The next ranges of a selection, bounded by the database (no ids travel)."""
    bounds = await _on_users(
        user_id_ranges,
        payload.selection,
        after_id=payload.after_id,
        size=payload.size,
        count=payload.count,
    )
    ranges, after_id = [], payload.after_id
    for last_id, size in bounds:
        ranges.append(UserRange(after_id=after_id, last_id=last_id, size=size))
        after_id = last_id
    return ranges


# Users per bulk update inside a range; the range heartbeats after each.
RANGE_SLICE = 2500


@activity.defn
async def process_user_range_activity(payload: UserRangePayload) -> dict:
    """Apply an action to a selection's users in an id range; count them."""
    # A retry (after a worker died) resumes after the last id heartbeated.
    after_id, processed = payload.after_id, 0
    if details := activity.info().heartbeat_details:
        after_id, processed = details[0]["after_id"], details[0]["processed"]
    while after_id < payload.last_id:
        last_id, found = await _on_users(
            apply_user_action_to_range,
            payload.action,
            payload.selection,
            after_id=after_id,
            last_id=payload.last_id,
            limit=RANGE_SLICE,
        )
        if found:
            after_id, processed = last_id, processed + found
            activity.heartbeat({"after_id": after_id, "processed": processed})
        if found < RANGE_SLICE:
            break  # the range's last users
    return {"processed": processed}


async def _apply_user_action(user_ids: list[int], action: str) -> list[int]:
    return await _on_users(apply_user_action, user_ids, action)


async def _on_users(function, /, *args, **kwargs):
    """Call a function of apps.users.services on the activity's thread."""
    try:
        return await sync_to_async(function)(*args, **kwargs)
    except UnknownNameError as error:
        # No retry can make an unknown action or selection exist.
        raise ApplicationError(
            str(error), type=f"Unknown{error.kind.title()}", non_retryable=True
        ) from error


@dataclass
class OnboardingPagePayload:
    """A page of the users who need onboarding, after `after_id`."""

    after_id: int = 0
    limit: int = 500


@dataclass
class OnboardingPageResult:
    checked: int  # users on the page
    started: int  # onboardings started (or started again) now
    last_id: int  # the page's last user id (0: the page was empty)


# Starts in flight at once while a page is reconciled.
MAX_CONCURRENT_STARTS = 20


@activity.defn
async def start_missing_onboardings_activity(
    payload: OnboardingPagePayload,
) -> OnboardingPageResult:
    """Start onboarding for a page of the users who need it (none twice)."""
    # Imported here: the starters import the workflows, which import this module.
    from django_temporal_bridge.starting import StartOutcome

    from .starters import start_onboarding_with

    users = await sync_to_async(users_page)(
        "needs_onboarding", after_id=payload.after_id, limit=payload.limit
    )
    client = activity.client()
    slots = asyncio.Semaphore(MAX_CONCURRENT_STARTS)

    async def start(user) -> StartOutcome:
        async with slots:
            return (await start_onboarding_with(client, user)).outcome

    outcomes = await asyncio.gather(*(start(user) for user in users))
    started = [StartOutcome.STARTED, StartOutcome.RESTARTED]
    return OnboardingPageResult(
        checked=len(users),
        started=sum(outcome in started for outcome in outcomes),
        last_id=users[-1].pk if users else 0,
    )
{% else -%}
"""Temporal activities of this app: the side effects of its workflows.

The worker runs every `@activity.defn` function in the activities.py of each
installed app. Temporal may run an activity more than once (a retry, a
worker that died), so each must be safe to repeat. Write them as async
functions; Django's ORM runs in them through `sync_to_async`.
temporal_app/README.md ("Your first workflow") shows one.
"""
{% endif -%}
