"""The cancel_follow_up update: it ends the onboarding's wait and answers
whether a follow-up email was still to be sent. The workflow runs on the
time-skipping test server with fake activities (a gate holds one of them
where a test wants the workflow to stay); the starters' function runs on the
dev server through the shared client."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async as sync
from temporalio import activity
from temporalio.client import Client

from django_temporal_bridge.client import TemporalUnavailable
from django_temporal_bridge.worker import create_worker
from temporal_app.activities import EmailPayload, UserProcessingPayload
from temporal_app.starters import (
    FollowUpCancellation,
    cancel_follow_up,
    cancel_follow_up_with,
    onboarding_workflow_id,
)
from temporal_app.workflows import OnboardingWorkflowInput, UserOnboardingWorkflow


class FakeActivities:
    """process_user_activity and send_email_activity that record what they
    did; `hold` names a step ("onboard", "welcome" or "follow-up") that waits
    until `release()`."""

    def __init__(self, hold: str = "") -> None:
        self.hold = hold
        self.held = asyncio.Event()
        self._released = asyncio.Event()
        self.emails: list[str] = []

    def release(self) -> None:
        self._released.set()

    async def _step(self, name: str) -> None:
        if name == self.hold:
            self.held.set()
            await self._released.wait()

    def definitions(self) -> list:
        @activity.defn(name="process_user_activity")
        async def process_user(payload: UserProcessingPayload) -> dict:
            await self._step(payload.action)
            return {"status": "processed"}

        @activity.defn(name="send_email_activity")
        async def send_email(payload: EmailPayload) -> dict:
            purpose = payload.idempotency_key.rpartition("/")[2]
            await self._step(purpose)
            self.emails.append(purpose)
            return {"status": "sent"}

        return [process_user, send_email]


def a_user_id() -> int:
    """An id no other test's onboarding uses on the shared test server."""
    return uuid.uuid4().int % 10**12


async def start(client: Client, task_queue: str, user_id: int, **input_fields):
    return await client.start_workflow(
        UserOnboardingWorkflow.run,
        OnboardingWorkflowInput(
            user_id=user_id, email="a@example.com", name="Ada", **input_fields
        ),
        id=onboarding_workflow_id(user_id),
        task_queue=task_queue,
    )


async def wait_for_status(handle, status: str) -> None:
    async with asyncio.timeout(10):
        while await handle.query(UserOnboardingWorkflow.status) != status:
            await asyncio.sleep(0.05)


async def test_cancelling_a_pending_follow_up_answers_true_and_one_email_is_sent(
    time_skipping_env, task_queue
):
    client, user_id, fakes = time_skipping_env.client, a_user_id(), FakeActivities()
    async with create_worker(
        client, task_queue=task_queue, activities=fakes.definitions()
    ):
        handle = await start(client, task_queue, user_id)
        await wait_for_status(handle, "waiting to follow up")

        answer = await cancel_follow_up_with(client, user_id)
        result = await handle.result()
        again = await cancel_follow_up_with(client, user_id)

    assert answer == FollowUpCancellation.CANCELLED
    assert result["emails_sent"] == 1
    assert fakes.emails == ["welcome"]
    assert again == FollowUpCancellation.NOTHING_PENDING  # the workflow has ended


async def test_a_second_cancellation_answers_false(time_skipping_env, task_queue):
    """Cancelled before the wait began (the user is still being processed):
    the first update answers True, the second False, and no follow-up goes."""
    client, user_id = time_skipping_env.client, a_user_id()
    fakes = FakeActivities(hold="onboard")
    async with create_worker(
        client, task_queue=task_queue, activities=fakes.definitions()
    ):
        handle = await start(client, task_queue, user_id)
        async with asyncio.timeout(10):
            await fakes.held.wait()

        first = await handle.execute_update(
            UserOnboardingWorkflow.cancel_pending_follow_up
        )
        second = await handle.execute_update(
            UserOnboardingWorkflow.cancel_pending_follow_up
        )
        fakes.release()
        result = await handle.result()

    assert (first, second) == (True, False)
    assert result["emails_sent"] == 1
    assert fakes.emails == ["welcome"]


async def test_cancelling_once_the_follow_up_is_being_sent_answers_false(
    time_skipping_env, task_queue
):
    client, user_id = time_skipping_env.client, a_user_id()
    fakes = FakeActivities(hold="follow-up")
    async with create_worker(
        client, task_queue=task_queue, activities=fakes.definitions()
    ):
        # A second's wait: the test server skips it, or it passes.
        handle = await start(client, task_queue, user_id, follow_up_delay_seconds=1)
        result = asyncio.create_task(handle.result())
        async with asyncio.timeout(10):
            await fakes.held.wait()

        answer = await cancel_follow_up_with(client, user_id)
        fakes.release()
        emails_sent = (await result)["emails_sent"]

    assert answer == FollowUpCancellation.NOTHING_PENDING
    assert emails_sent == 2
    assert fakes.emails == ["welcome", "follow-up"]


async def test_a_user_without_onboarding_has_nothing_to_cancel(time_skipping_env):
    answer = await cancel_follow_up_with(time_skipping_env.client, a_user_id())

    assert answer == FollowUpCancellation.NO_ONBOARDING


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
async def test_cancel_follow_up_from_django_code(temporal, task_queue, user):
    """The sync function, through the shared client, on the dev server."""
    fakes = FakeActivities()
    async with create_worker(
        temporal, task_queue=task_queue, activities=fakes.definitions()
    ):
        handle = await start(temporal, task_queue, user.pk)
        await wait_for_status(handle, "waiting to follow up")

        answer = await sync(cancel_follow_up)(user.pk)
        await handle.result()

    assert answer == FollowUpCancellation.CANCELLED


def test_cancel_follow_up_raises_temporal_unavailable_when_temporal_is_down(
    monkeypatch, refusing
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)

    with pytest.raises(TemporalUnavailable):
        cancel_follow_up(1)
