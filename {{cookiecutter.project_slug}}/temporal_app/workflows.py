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
import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    is_cancelled_exception,
)
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from temporal_app.activities import (
        EmailPayload,
        OnboardingPagePayload,
        UserChunkPayload,
        UserPagePayload,
        UserProcessingPayload,
        fetch_user_ids_activity,
        process_user_activity,
        process_user_chunk_activity,
        send_email_activity,
        start_missing_onboardings_activity,
    )

# Transient failures (database restarts, SMTP outages) retry with backoff and
# no cap on attempts: an outage of minutes or hours must not fail a workflow
# for good. What bounds the retries is each call's schedule_to_close_timeout
# (the *_DEADLINE below); errors raised as non-retryable (a missing user, an
# unknown action) fail at once. start_to_close_timeout bounds one attempt.
DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)
DATABASE_TIMEOUT = timedelta(seconds=30)
DATABASE_DEADLINE = timedelta(hours=4)
EMAIL_TIMEOUT = timedelta(seconds=60)
EMAIL_DEADLINE = timedelta(days=1)


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
            schedule_to_close_timeout=DATABASE_DEADLINE,
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
            schedule_to_close_timeout=EMAIL_DEADLINE,
            retry_policy=EMAIL_RETRY,
        )


# A page of a selection holds this many chunks' worth of ids.
CHUNKS_PER_PAGE = 20
# A page or a chunk holds at most this many ids, whatever the input's
# chunk_size: as JSON an id of up to 10 digits takes 11 bytes, so they stay
# near 275 KB, below the 512 KB at which Temporal warns about a payload.
MAX_IDS_PER_ACTIVITY = 25_000
# The result lists at most this many failed ids (and counts all of them).
MAX_REPORTED_FAILED_IDS = 1000
# Errors of a chunk that say the batch itself is wrong: they fail the batch
# instead of counting every user as failed.
BATCH_ERROR_TYPES = ("UnknownAction", "UnknownSelection")


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
    `chunks_per_run` chunks, carrying the progress.

    A chunk that fails for good counts its users as failed; an unknown action
    or selection fails the batch; cancelling the batch cancels its chunks."""

    @workflow.init
    def __init__(self, input: BatchProcessingWorkflowInput) -> None:
        self._input = input
        self._processed = input.processed
        self._failed_count = input.failed_count
        self._failed_ids = list(input.failed_ids)

    @workflow.run
    async def run(self, input: BatchProcessingWorkflowInput) -> dict:
        chunk_size = input.chunk_size
        page_size = chunk_size * CHUNKS_PER_PAGE
        # Runs started before the cap keep their sizes: their histories replay.
        if workflow.patched("cap-ids-per-activity"):
            chunk_size = min(chunk_size, MAX_IDS_PER_ACTIVITY)
            page_size = min(page_size, MAX_IDS_PER_ACTIVITY)
        queue = list(input.user_ids)  # ids not yet handed to a chunk
        fetched_up_to = dispatched_up_to = input.after_id
        selection_done = not input.selection
        window: list[asyncio.Task[None]] = []
        chunks = 0

        try:
            while True:
                # Selection: fetch the next page when the queue runs short.
                if not selection_done and len(queue) < chunk_size:
                    page = await workflow.execute_activity(
                        fetch_user_ids_activity,
                        UserPagePayload(
                            input.selection, after_id=fetched_up_to, limit=page_size
                        ),
                        start_to_close_timeout=DATABASE_TIMEOUT,
                        schedule_to_close_timeout=DATABASE_DEADLINE,
                        retry_policy=DATABASE_RETRY,
                    )
                    queue += page
                    fetched_up_to = page[-1] if page else fetched_up_to
                    selection_done = len(page) < page_size
                if not queue:
                    break
                if (
                    chunks >= input.chunks_per_run
                    or workflow.info().is_continue_as_new_suggested()
                ):
                    await self._wait_for_chunks(window)
                    workflow.continue_as_new(
                        self._progress(
                            queue, after_id=dispatched_up_to, runs=input.runs + 1
                        )
                    )
                if len(window) >= input.max_concurrent_chunks:
                    window = await self._wait_for_chunks(
                        window, return_when=asyncio.FIRST_COMPLETED
                    )
                chunk, queue = queue[:chunk_size], queue[chunk_size:]
                window.append(asyncio.create_task(self._process_chunk(chunk)))
                dispatched_up_to = chunk[-1]
                chunks += 1

            await self._wait_for_chunks(window)
        except (asyncio.CancelledError, ActivityError) as error:
            if is_cancelled_exception(error):
                # The batch is cancelled: so are its chunks in flight. It ends
                # once they have stopped, so its progress is final.
                for task in window:
                    task.cancel()
                await self._wait_for_chunks(window, return_when=asyncio.ALL_COMPLETED)
            raise

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

    async def _wait_for_chunks(
        self,
        window: list[asyncio.Task[None]],
        *,
        return_when: str = asyncio.FIRST_EXCEPTION,
    ) -> list[asyncio.Task[None]]:
        """Wait for chunks in flight (by default, all of them); return those
        still running.

        A chunk's exception is raised here, in the workflow's main coroutine,
        rather than lost with its task: a bug fails the workflow task (Temporal
        retries it until the code is fixed), a batch error fails the batch.
        """
        if not window:
            return []
        done, pending = await workflow.wait(window, return_when=return_when)
        for task in done:
            task.result()
        return pending

    async def _process_chunk(self, user_ids: list[int]) -> None:
        try:
            result = await workflow.execute_activity(
                process_user_chunk_activity,
                UserChunkPayload(user_ids=user_ids, action=self._input.action),
                start_to_close_timeout=timedelta(minutes=5),
                schedule_to_close_timeout=DATABASE_DEADLINE,
                # The chunk learns of a cancellation from its next heartbeat;
                # a cancelled batch waits until its chunks have stopped.
                heartbeat_timeout=timedelta(seconds=30),
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                retry_policy=DATABASE_RETRY,
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                return  # The batch is cancelled: these users did not fail.
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type in BATCH_ERROR_TYPES:
                raise  # The batch itself is wrong: no chunk can succeed.
            # The chunk failed for good (its deadline passed, or an error no
            # retry can fix): count its users as failed and let the rest of
            # the batch finish.
            workflow.logger.exception("A chunk of %d users failed", len(user_ids))
            processed, failed = 0, user_ids
        else:
            processed, failed = result["processed"], result["failed_ids"]
        self._processed += processed
        self._failed_count += len(failed)
        room = MAX_REPORTED_FAILED_IDS - len(self._failed_ids)
        self._failed_ids += failed[:room]


@dataclass
class ReconcileOnboardingInput:
    # Users per activity, and pages per run before continuing as new (a page
    # adds about six events to the history; a run stays far below the limits).
    page_size: int = 500
    pages_per_run: int = 100
    # Progress carried from run to run by continue-as-new.
    after_id: int = 0
    checked: int = 0
    started: int = 0


@workflow.defn(name="reconcile_onboarding")
class ReconcileOnboardingWorkflow:
    """Start onboarding for every user who should have it and has none, such
    as those who signed up while Temporal was unreachable. The
    reconcile-onboarding schedule runs it (temporal_app.schedules); starts
    use the users' deterministic workflow ids, so a repeat is a no-op."""

    @workflow.run
    async def run(self, input: ReconcileOnboardingInput) -> dict:
        after_id, checked, started = input.after_id, input.checked, input.started
        for _ in range(input.pages_per_run):
            page = await workflow.execute_activity(
                start_missing_onboardings_activity,
                OnboardingPagePayload(after_id=after_id, limit=input.page_size),
                start_to_close_timeout=timedelta(minutes=5),
                # The next scheduled run takes over after a long outage.
                schedule_to_close_timeout=timedelta(hours=1),
                retry_policy=DATABASE_RETRY,
            )
            checked += page.checked
            started += page.started
            if page.checked < input.page_size:
                return {"status": "completed", "checked": checked, "started": started}
            after_id = page.last_id
        workflow.continue_as_new(
            dataclasses.replace(
                input, after_id=after_id, checked=checked, started=started
            )
        )
