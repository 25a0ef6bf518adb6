"""Temporal workflows: durable orchestration, replayed from history.

Workflow code must be deterministic: time, sleep and randomness come from
`workflow.*`, and every side effect (database, email) is an activity. The
activities module imports Django, so it is passed through the sandbox
instead of being re-imported inside it.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from temporal_app.activities import (
        EmailPayload,
        UserChunkPayload,
        UserProcessingPayload,
        process_user_activity,
        process_user_chunk_activity,
        send_email_activity,
    )

# Transient failures (database restarts, SMTP hiccups) retry with backoff;
# errors raised as non-retryable (a missing user) fail at once.
DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
)
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)
DATABASE_TIMEOUT = timedelta(seconds=30)
EMAIL_TIMEOUT = timedelta(seconds=60)


@dataclass
class OnboardingWorkflowInput:
    user_id: int
    email: str
    name: str
    follow_up_delay_seconds: int = 24 * 60 * 60


@workflow.defn(name="user_onboarding")
class UserOnboardingWorkflow:
    """Process a new user, welcome them, and follow up a day later."""

    def __init__(self) -> None:
        self._status = "started"

    @workflow.run
    async def run(self, input: OnboardingWorkflowInput) -> dict:
        self._status = "processing user"
        await workflow.execute_activity(
            process_user_activity,
            UserProcessingPayload(user_id=input.user_id, action="onboard"),
            start_to_close_timeout=DATABASE_TIMEOUT,
            retry_policy=DATABASE_RETRY,
        )

        self._status = "sending welcome email"
        await self._send_email(
            input, subject="Welcome!", body=f"Hi {input.name}, welcome aboard."
        )

        # A durable timer: the worker may restart any number of times meanwhile.
        self._status = "waiting to follow up"
        await workflow.sleep(timedelta(seconds=input.follow_up_delay_seconds))

        self._status = "sending follow-up email"
        await self._send_email(
            input,
            subject="How is it going?",
            body=f"Hi {input.name}, how are your first days going?",
        )

        self._status = "completed"
        return {"status": "completed", "user_id": input.user_id, "emails_sent": 2}

    @workflow.query
    def status(self) -> str:
        """What the workflow is doing now (visible in the Temporal UI)."""
        return self._status

    async def _send_email(
        self, input: OnboardingWorkflowInput, *, subject: str, body: str
    ) -> None:
        await workflow.execute_activity(
            send_email_activity,
            EmailPayload(to=input.email, subject=subject, body=body),
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
        )


@dataclass
class BatchProcessingWorkflowInput:
    batch_id: str
    user_ids: list[int] = field(default_factory=list)
    action: str = "process"
    # Users per activity (one bulk ORM update each), and how many of those
    # activities run at once.
    chunk_size: int = 500
    max_concurrent_chunks: int = 4


@workflow.defn(name="batch_processing")
class BatchProcessingWorkflow:
    """Apply an action to many users, a chunk per activity, a few at a time."""

    @workflow.run
    async def run(self, input: BatchProcessingWorkflowInput) -> dict:
        processed = 0
        failed_ids: list[int] = []
        window: list[asyncio.Task[tuple[int, list[int]]]] = []

        async def wait_for_one() -> None:
            nonlocal processed, window
            done, window = await workflow.wait(
                window, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                count, failed = task.result()
                processed += count
                failed_ids.extend(failed)

        ids = input.user_ids
        for start in range(0, len(ids), input.chunk_size):
            if len(window) >= input.max_concurrent_chunks:
                await wait_for_one()
            chunk = ids[start : start + input.chunk_size]
            window.append(asyncio.create_task(self._process_chunk(chunk, input.action)))
        while window:
            await wait_for_one()

        return {
            "status": "completed",
            "batch_id": input.batch_id,
            "processed": processed,
            "failed_ids": sorted(failed_ids),
        }

    async def _process_chunk(
        self, user_ids: list[int], action: str
    ) -> tuple[int, list[int]]:
        try:
            result = await workflow.execute_activity(
                process_user_chunk_activity,
                UserChunkPayload(user_ids=user_ids, action=action),
                start_to_close_timeout=DATABASE_TIMEOUT,
                retry_policy=DATABASE_RETRY,
            )
        except ActivityError:
            # The chunk failed for good (retries exhausted or non-retryable):
            # report its users as failed and let the rest of the batch finish.
            workflow.logger.exception("Chunk of %d users failed", len(user_ids))
            return 0, user_ids
        return result["processed"], result["failed_ids"]
