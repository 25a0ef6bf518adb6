"""Temporal workflows: durable orchestration, replayed from history.

Workflow code must be deterministic: time, sleep and randomness come from
`workflow.*`, and every side effect (database, email) is an activity. The
activities module imports Django, so it is passed through the sandbox
instead of being re-imported inside it.

Changing what a workflow does while runs of it are in flight needs
`workflow.patched()`; the replay tests (tests/test_replay.py) fail when a
change would break them.
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
        UserPagePayload,
        UserProcessingPayload,
        fetch_user_ids_activity,
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
        self._follow_up_cancelled = False

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
            input,
            "welcome",
            subject="Welcome!",
            body=f"Hi {input.name}, welcome aboard.",
        )

        # A durable timer: the worker may restart any number of times
        # meanwhile. The cancel_follow_up signal ends the wait early.
        self._status = "waiting to follow up"
        try:
            await workflow.wait_condition(
                lambda: self._follow_up_cancelled,
                timeout=timedelta(seconds=input.follow_up_delay_seconds),
            )
        except TimeoutError:
            self._status = "sending follow-up email"
            await self._send_email(
                input,
                "follow-up",
                subject="How is it going?",
                body=f"Hi {input.name}, how are your first days going?",
            )
            emails_sent = 2
        else:
            emails_sent = 1

        self._status = "completed"
        return {
            "status": "completed",
            "user_id": input.user_id,
            "emails_sent": emails_sent,
        }

    @workflow.query
    def status(self) -> str:
        """What the workflow is doing now (visible in the Temporal UI)."""
        return self._status

    @workflow.signal
    def cancel_follow_up(self) -> None:
        """Skip the follow-up email (if it is not sent yet)."""
        self._follow_up_cancelled = True

    async def _send_email(
        self, input: OnboardingWorkflowInput, purpose: str, *, subject: str, body: str
    ) -> None:
        # Stable across retries and replays: one email per workflow id and purpose.
        key = f"{workflow.info().workflow_id}/{purpose}"
        await workflow.execute_activity(
            send_email_activity,
            EmailPayload(
                to=input.email, subject=subject, body=body, idempotency_key=key
            ),
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
        )


# A page of a selection holds this many chunks' worth of ids.
CHUNKS_PER_PAGE = 20
# The result lists at most this many failed ids (and counts all of them).
MAX_REPORTED_FAILED_IDS = 1000


@dataclass
class BatchProcessingWorkflowInput:
    batch_id: str
    # The users: either their ids, or the name of a selection in
    # apps.users.services.USER_SELECTIONS, which the workflow pages through
    # (a selection has no size limit; ids travel in the workflow's input,
    # which Temporal caps at 2 MB, and warns about above 512 KB).
    user_ids: list[int] = field(default_factory=list)
    selection: str = ""
    action: str = "process"
    # Users per activity (bulk ORM work), and how many run at once. A chunk
    # costs a few Temporal round-trips whatever its size, and those, not the
    # database, take most of the time: `make bench` on 2 cores processed
    # 100,000 users in about 3.5 s in chunks of 500, 2 s in chunks of 1,000.
    chunk_size: int = 1000
    max_concurrent_chunks: int = 4
    # A run stops after this many chunks and continues as new, so its history
    # stays far below Temporal's limits (a warning at 10,240 events; each
    # chunk adds about six).
    chunks_per_run: int = 100
    # Progress carried from run to run by continue-as-new.
    after_id: int = 0
    processed: int = 0
    failed_count: int = 0
    failed_ids: list[int] = field(default_factory=list)
    runs: int = 1


@workflow.defn(name="batch_processing")
class BatchProcessingWorkflow:
    """Apply an action to many users: a chunk per activity, a sliding window
    of chunks in flight, and a fresh run (continue-as-new) every
    `chunks_per_run` chunks, carrying the progress."""

    @workflow.init
    def __init__(self, input: BatchProcessingWorkflowInput) -> None:
        self._input = input
        self._processed = input.processed
        self._failed_count = input.failed_count
        self._failed_ids = list(input.failed_ids)

    @workflow.run
    async def run(self, input: BatchProcessingWorkflowInput) -> dict:
        queue = list(input.user_ids)  # ids not yet handed to a chunk
        fetched_up_to = dispatched_up_to = input.after_id
        selection_done = not input.selection
        window: list[asyncio.Task[None]] = []
        chunks = 0

        while True:
            # Selection: fetch the next page when the queue runs short.
            if not selection_done and len(queue) < input.chunk_size:
                limit = input.chunk_size * CHUNKS_PER_PAGE
                page = await workflow.execute_activity(
                    fetch_user_ids_activity,
                    UserPagePayload(
                        input.selection, after_id=fetched_up_to, limit=limit
                    ),
                    start_to_close_timeout=DATABASE_TIMEOUT,
                    retry_policy=DATABASE_RETRY,
                )
                queue += page
                fetched_up_to = page[-1] if page else fetched_up_to
                selection_done = len(page) < limit
            if not queue:
                break
            if (
                chunks >= input.chunks_per_run
                or workflow.info().is_continue_as_new_suggested()
            ):
                if window:
                    await workflow.wait(window)
                workflow.continue_as_new(
                    self._progress(
                        queue, after_id=dispatched_up_to, runs=input.runs + 1
                    )
                )
            if len(window) >= input.max_concurrent_chunks:
                _, window = await workflow.wait(
                    window, return_when=asyncio.FIRST_COMPLETED
                )
            chunk, queue = queue[: input.chunk_size], queue[input.chunk_size :]
            window.append(asyncio.create_task(self._process_chunk(chunk)))
            dispatched_up_to = chunk[-1]
            chunks += 1

        if window:
            await workflow.wait(window)
        return {
            "status": "completed",
            "batch_id": input.batch_id,
            "processed": self._processed,
            "failed_count": self._failed_count,
            "failed_ids": sorted(self._failed_ids),
            "runs": input.runs,
        }

    @workflow.query
    def progress(self) -> dict:
        """Users processed and failed so far, across runs."""
        return {"processed": self._processed, "failed_count": self._failed_count}

    def _progress(
        self, queue: list[int], *, after_id: int, runs: int
    ) -> BatchProcessingWorkflowInput:
        """The input of the next run: what is left, and what is done."""
        selection = bool(self._input.selection)
        return BatchProcessingWorkflowInput(
            batch_id=self._input.batch_id,
            user_ids=[] if selection else queue,
            selection=self._input.selection,
            action=self._input.action,
            chunk_size=self._input.chunk_size,
            max_concurrent_chunks=self._input.max_concurrent_chunks,
            chunks_per_run=self._input.chunks_per_run,
            # Ids fetched but not yet dispatched are fetched again next run.
            after_id=after_id if selection else 0,
            processed=self._processed,
            failed_count=self._failed_count,
            failed_ids=self._failed_ids,
            runs=runs,
        )

    async def _process_chunk(self, user_ids: list[int]) -> None:
        try:
            result = await workflow.execute_activity(
                process_user_chunk_activity,
                UserChunkPayload(user_ids=user_ids, action=self._input.action),
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=DATABASE_RETRY,
            )
            processed, failed = result["processed"], result["failed_ids"]
        except ActivityError:
            # The chunk failed for good (retries exhausted or non-retryable):
            # count its users as failed and let the rest of the batch finish.
            workflow.logger.exception("A chunk of %d users failed", len(user_ids))
            processed, failed = 0, user_ids
        self._processed += processed
        self._failed_count += len(failed)
        room = MAX_REPORTED_FAILED_IDS - len(self._failed_ids)
        self._failed_ids += failed[:room]
