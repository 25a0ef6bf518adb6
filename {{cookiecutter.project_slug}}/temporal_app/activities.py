"""Temporal activities: every side effect of the workflows happens here.

Activities run on the worker, outside Django's request cycle. They are async
functions, and their synchronous ORM and email work runs through
`sync_to_async`. The worker's interceptor (temporal_app.interceptors) gives
each activity its own thread for that work and closes stale database
connections around it.

Temporal may run an activity more than once (a retry, a worker crash), so
each one is safe to repeat. Payloads are single dataclasses: new fields get
defaults, so workflows already running keep working.
"""

from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.mail import send_mail
from temporalio import activity
from temporalio.exceptions import ApplicationError

from apps.users.services import UnknownActionError, apply_user_action


@dataclass
class EmailPayload:
    to: str
    subject: str
    body: str
    from_email: str | None = None


@dataclass
class UserProcessingPayload:
    user_id: int
    action: str = "process"


@dataclass
class UserChunkPayload:
    """A chunk of a batch: one activity does bulk ORM work for many users."""

    user_ids: list[int]
    action: str = "process"


@activity.defn
async def send_email_activity(payload: EmailPayload) -> dict:
    """Send one email through Django's configured email backend."""
    await sync_to_async(send_mail)(
        subject=payload.subject,
        message=payload.body,
        from_email=payload.from_email or settings.DEFAULT_FROM_EMAIL,
        recipient_list=[payload.to],
    )
    return {"status": "sent", "to": payload.to}


@activity.defn
async def process_user_activity(payload: UserProcessingPayload) -> dict:
    """Apply an action (see apps.users.services.USER_ACTIONS) to one user."""
    missing = await _apply([payload.user_id], payload.action)
    if missing:
        # Retrying cannot make a deleted user reappear: fail the workflow step.
        raise ApplicationError(
            f"User {payload.user_id} does not exist",
            type="UserNotFound",
            non_retryable=True,
        )
    return {"status": "processed", "user_id": payload.user_id, "action": payload.action}


@activity.defn
async def process_user_chunk_activity(payload: UserChunkPayload) -> dict:
    """Apply an action to many users at once; report the ids that are missing."""
    missing = await _apply(payload.user_ids, payload.action)
    return {"processed": len(payload.user_ids) - len(missing), "failed_ids": missing}


async def _apply(user_ids: list[int], action: str) -> list[int]:
    try:
        return await sync_to_async(apply_user_action)(user_ids, action)
    except UnknownActionError as error:
        raise ApplicationError(
            str(error), type="UnknownAction", non_retryable=True
        ) from error
