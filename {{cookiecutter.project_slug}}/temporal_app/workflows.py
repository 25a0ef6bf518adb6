{% if cookiecutter.example_workflows -%}
"""The example workflows: onboarding, batches over users, reconciliation.

Deterministic; side effects are activities. A change with runs in flight needs
`workflow.patched()` (tests/test_replay.py checks; docs: the versioning guide).
"""

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    is_cancelled_exception,
)
from temporalio.workflow import (
    ActivityCancellationType,
    ContinueAsNewVersioningBehavior,
)

# These modules import Django: passed through, not re-imported in the sandbox.
with workflow.unsafe.imports_passed_through():
    from django_temporal_bridge.versioning import declared
    from temporal_app.activities import (
        EmailPayload,
        OnboardingPagePayload,
        UserChunkPayload,
        UserPagePayload,
        UserProcessingPayload,
        UserRange,
        UserRangePayload,
        UserRangesPayload,
        fetch_user_ids_activity,
        plan_user_ranges_activity,
        process_user_activity,
        process_user_chunk_activity,
        process_user_range_activity,
        send_email_activity,
        start_missing_onboardings_activity,
    )
    from temporal_app.search_attributes import BATCH_ID

# No cap on attempts, so an outage of hours fails no workflow: a call's
# *_DEADLINE (schedule_to_close) bounds its retries, *_TIMEOUT one attempt.
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


# AUTO_UPGRADE: a run waits a day, too long to keep its build's workers around.
@workflow.defn(
    name="user_onboarding",
    versioning_behavior=declared(VersioningBehavior.AUTO_UPGRADE),
)
class UserOnboardingWorkflow:
    """Process a new user, welcome them, and follow up a day later."""

    def __init__(self) -> None:
        self._status = "started"
        self._follow_up_cancelled = False
        self._follow_up_due = False  # the wait is over: the email is being sent

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

        # A durable timer; cancel_follow_up (signal or update) ends it early.
        self._status = "waiting to follow up"
        try:
            await workflow.wait_condition(
                lambda: self._follow_up_cancelled,
                timeout=timedelta(seconds=input.follow_up_delay_seconds),
            )
        except TimeoutError:
            self._follow_up_due = True
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

    # The signal's name (Temporal keeps signals and updates apart): the update
    # answers; the signal stays for the runs and histories that use it.
    @workflow.update(name="cancel_follow_up")
    def cancel_pending_follow_up(self) -> bool:
        """Skip the follow-up email; return whether it was still to be sent."""
        # Exact even if the timer fires meanwhile: handlers run before the
        # workflow resumes, so the wait then ends on the cancellation.
        pending = not (self._follow_up_cancelled or self._follow_up_due)
        self._follow_up_cancelled = True
        return pending

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


RANGES_PER_PLAN = 20  # ranges planned per activity
CHUNKS_PER_PAGE = 20  # chunks per page of ids (selections started before ranges)
# Ids per page, chunk or range: ~275 KB of JSON, below the 512 KB payload warning.
MAX_IDS_PER_ACTIVITY = 25_000
MAX_REPORTED_FAILED_IDS = 1000  # failed ids listed in the result (all counted)
# A chunk's errors that fail the batch: no chunk of it could succeed.
BATCH_ERROR_TYPES = ("UnknownAction", "UnknownSelection")


@dataclass
class BatchProcessingWorkflowInput:
    batch_id: str
    # Ids (in the input, capped at 2 MB) or a USER_SELECTIONS name (any size).
    user_ids: list[int] = field(default_factory=list)
    selection: str = ""
    action: str = "process"
    # Users per activity, and activities at once: an activity costs a few
    # round-trips whatever its size, so small chunks are slow.
    chunk_size: int = 10_000
    max_concurrent_chunks: int = 4
    # Chunks per run before continue-as-new (about six history events each).
    chunks_per_run: int = 100
    # How soon a dead worker's chunk is retried elsewhere; above SQLite's 20 s
    # busy timeout, which a bulk update may wait out between two heartbeats.
    heartbeat_timeout_seconds: float = 30
    # Progress carried across continue-as-new.
    after_id: int = 0
    processed: int = 0
    failed_count: int = 0
    failed_ids: list[int] = field(default_factory=list)
    runs: int = 1


# PINNED: a run is short (chunks_per_run); the next one starts on the current build.
@workflow.defn(
    name="batch_processing", versioning_behavior=declared(VersioningBehavior.PINNED)
)
class BatchProcessingWorkflow:
    """Apply an action to many users, a chunk of ids or a range of a selection
    per activity, a window of them at once (a range's ids never travel)."""

    @workflow.init
    def __init__(self, input: BatchProcessingWorkflowInput) -> None:
        if not input.batch_id:
            # A schedule's run: its workflow id (plus the run's time) names the batch.
            batch_id = workflow.info().workflow_id.removeprefix("batch-")
            input = dataclasses.replace(input, batch_id=batch_id)
        self._input = input
        self._processed = input.processed
        self._failed_count = input.failed_count
        self._failed_ids = list(input.failed_ids)
        self._window: list[asyncio.Task[None]] = []  # chunks in flight

    @workflow.run
    async def run(self, input: BatchProcessingWorkflowInput) -> dict:
        if (
            not input.batch_id
            and BATCH_ID not in workflow.info().typed_search_attributes
        ):
            # A schedule's start cannot set BatchId: the run does.
            workflow.upsert_search_attributes(
                [BATCH_ID.value_set(self._input.batch_id)]
            )
        try:
            # Runs started before ranges replay their paging of ids.
            if input.selection and workflow.patched("selection-in-id-ranges"):
                await self._process_ranges(input)
            else:
                await self._process_chunks(input)
            await self._wait_for_chunks()
        except (asyncio.CancelledError, ActivityError) as error:
            if is_cancelled_exception(error):
                # Cancel the chunks; end once they stopped, so progress is final.
                for task in self._window:
                    task.cancel()
                await self._wait_for_chunks(return_when=asyncio.ALL_COMPLETED)
            raise

        return {
            "status": "completed",
            "batch_id": self._input.batch_id,
            "processed": self._processed,
            "failed_count": self._failed_count,
            "failed_ids": sorted(self._failed_ids),
            "runs": input.runs,
        }

    @workflow.query
    def progress(self) -> dict:
        """Users processed and failed so far, across runs."""
        return {"processed": self._processed, "failed_count": self._failed_count}

    async def _process_ranges(self, input: BatchProcessingWorkflowInput) -> None:
        """Start a range of the selection per activity, planning as needed."""
        size = min(input.chunk_size, MAX_IDS_PER_ACTIVITY)
        started_up_to = input.after_id
        planned: list[UserRange] = []
        selection_done = False
        ranges = 0
        while True:
            if not planned and not selection_done:
                planned = await workflow.execute_activity(
                    plan_user_ranges_activity,
                    UserRangesPayload(
                        input.selection,
                        after_id=started_up_to,
                        size=size,
                        count=RANGES_PER_PLAN,
                    ),
                    start_to_close_timeout=DATABASE_TIMEOUT,
                    schedule_to_close_timeout=DATABASE_DEADLINE,
                    retry_policy=DATABASE_RETRY,
                )
                selection_done = (
                    len(planned) < RANGES_PER_PLAN or planned[-1].size < size
                )
            if not planned:
                return
            await self._continue_as_new_if_due(ranges, [], after_id=started_up_to)
            await self._wait_for_room()
            user_range = planned.pop(0)
            self._window.append(asyncio.create_task(self._process_range(user_range)))
            started_up_to = user_range.last_id
            ranges += 1

    async def _process_chunks(self, input: BatchProcessingWorkflowInput) -> None:
        """Start a chunk of ids per activity: the input's, or a selection's."""
        chunk_size = input.chunk_size
        page_size = chunk_size * CHUNKS_PER_PAGE
        # Runs started before the cap keep their sizes: their histories replay.
        if workflow.patched("cap-ids-per-activity"):
            chunk_size = min(chunk_size, MAX_IDS_PER_ACTIVITY)
            page_size = min(page_size, MAX_IDS_PER_ACTIVITY)
        queue = list(input.user_ids)  # ids not yet handed to a chunk
        fetched_up_to = dispatched_up_to = input.after_id
        selection_done = not input.selection
        chunks = 0
        while True:
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
                return
            await self._continue_as_new_if_due(chunks, queue, after_id=dispatched_up_to)
            await self._wait_for_room()
            chunk, queue = queue[:chunk_size], queue[chunk_size:]
            self._window.append(asyncio.create_task(self._process_chunk(chunk)))
            dispatched_up_to = chunk[-1]
            chunks += 1

    async def _continue_as_new_if_due(
        self, chunks: int, queue: list[int], *, after_id: int
    ) -> None:
        """Continue as new after `chunks_per_run` chunks or when suggested."""
        if (
            chunks >= self._input.chunks_per_run
            or workflow.info().is_continue_as_new_suggested()
        ):
            await self._wait_for_chunks()
            workflow.continue_as_new(
                self._progress(queue, after_id=after_id, runs=self._input.runs + 1),
                # Not pinned to this build: the next run takes the current one.
                initial_versioning_behavior=ContinueAsNewVersioningBehavior.AUTO_UPGRADE,
            )

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
            heartbeat_timeout_seconds=self._input.heartbeat_timeout_seconds,
            # Ids fetched or planned but not yet started are found again.
            after_id=after_id if selection else 0,
            processed=self._processed,
            failed_count=self._failed_count,
            failed_ids=self._failed_ids,
            runs=runs,
        )

    async def _wait_for_room(self) -> None:
        """Wait until fewer than `max_concurrent_chunks` chunks are in flight."""
        if len(self._window) >= self._input.max_concurrent_chunks:
            await self._wait_for_chunks(return_when=asyncio.FIRST_COMPLETED)

    async def _wait_for_chunks(
        self, *, return_when: str = asyncio.FIRST_EXCEPTION
    ) -> None:
        """Wait for chunks in flight (by default all), keeping the rest; raise a
        chunk's exception here, not lost with its task (a bug fails the workflow
        task, retried until fixed; a batch error fails the batch)."""
        if not self._window:
            return
        done, self._window = await workflow.wait(self._window, return_when=return_when)
        for task in done:
            task.result()

    async def _process_chunk(self, user_ids: list[int]) -> None:
        try:
            result = await self._execute_chunk(
                process_user_chunk_activity,
                UserChunkPayload(user_ids=user_ids, action=self._input.action),
            )
        except ActivityError as error:
            if not self._failed_for_good(error, len(user_ids)):
                return
            processed, failed = 0, user_ids
        else:
            processed, failed = result["processed"], result["failed_ids"]
        self._count(processed, failed)

    async def _process_range(self, user_range: UserRange) -> None:
        selection = self._input.selection
        try:
            result = await self._execute_chunk(
                process_user_range_activity,
                UserRangePayload(
                    selection,
                    after_id=user_range.after_id,
                    last_id=user_range.last_id,
                    action=self._input.action,
                ),
            )
        except ActivityError as error:
            if not self._failed_for_good(error, user_range.size):
                return
            # List its users as failed (the batch fails if the database still does).
            page = await workflow.execute_activity(
                fetch_user_ids_activity,
                UserPagePayload(
                    selection, after_id=user_range.after_id, limit=user_range.size
                ),
                start_to_close_timeout=DATABASE_TIMEOUT,
                schedule_to_close_timeout=DATABASE_DEADLINE,
                retry_policy=DATABASE_RETRY,
            )
            self._count(0, [pk for pk in page if pk <= user_range.last_id])
        else:
            self._count(result["processed"], [])

    async def _execute_chunk(self, activity: Callable, payload: object) -> dict:
        return await workflow.execute_activity(
            activity,
            payload,
            start_to_close_timeout=timedelta(minutes=5),
            schedule_to_close_timeout=DATABASE_DEADLINE,
            # Cancellation reaches a chunk by heartbeat; the batch waits for it.
            heartbeat_timeout=timedelta(seconds=self._input.heartbeat_timeout_seconds),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            retry_policy=DATABASE_RETRY,
        )

    def _failed_for_good(self, error: ActivityError, users: int) -> bool:
        """Whether the chunk's users failed (not if cancelled); raise a batch error."""
        if is_cancelled_exception(error):
            return False
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type in BATCH_ERROR_TYPES:
            raise error
        # Failed for good (deadline, or no retry can fix it): the batch goes on.
        workflow.logger.exception("A chunk of %d users failed", users)
        return True

    def _count(self, processed: int, failed: list[int]) -> None:
        self._processed += processed
        self._failed_count += len(failed)
        room = MAX_REPORTED_FAILED_IDS - len(self._failed_ids)
        self._failed_ids += failed[:room]


@dataclass
class ReconcileOnboardingInput:
    # Users per activity, and pages per run (about six history events each).
    page_size: int = 500
    pages_per_run: int = 100
    # Progress carried across continue-as-new.
    after_id: int = 0
    checked: int = 0
    started: int = 0


# PINNED, as the batch: runs are short.
@workflow.defn(
    name="reconcile_onboarding", versioning_behavior=declared(VersioningBehavior.PINNED)
)
class ReconcileOnboardingWorkflow:
    """Start onboarding for users who need it and have none (signed up while
    Temporal was down); run by a schedule; idempotent by workflow id."""

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
            ),
            initial_versioning_behavior=ContinueAsNewVersioningBehavior.AUTO_UPGRADE,
        )
{% else -%}
"""Temporal workflows of this app: durable orchestration, replayed from history.

The worker (`python manage.py run_temporal_worker`) runs every
`@workflow.defn` class in the workflows.py of each installed app. Workflow
code is deterministic: time, sleep and randomness come from `workflow.*`,
and every side effect (database, email, HTTP) is an activity (activities.py).
temporal_app/README.md ("Your first workflow") shows one, and its test.
"""
{% endif -%}
