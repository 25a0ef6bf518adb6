"""Workflows on Temporal's time-skipping test server: the 24-hour wait of the
onboarding workflow passes in a moment, with the real activities and the test
database, or with activities replaced by fakes of the same name."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import ActivityError, ApplicationError

from django_temporal_bridge.worker import create_worker
from temporal_app.activities import (
    EmailPayload,
    UserProcessingPayload,
    UserRangePayload,
    UserRangesPayload,
)
from temporal_app.workflows import (
    MAX_IDS_PER_ACTIVITY,
    BatchProcessingWorkflow,
    BatchProcessingWorkflowInput,
    OnboardingWorkflowInput,
    UserOnboardingWorkflow,
)

pytestmark = pytest.mark.django_db(transaction=True)


def onboarding_input(user, **overrides) -> OnboardingWorkflowInput:
    return OnboardingWorkflowInput(
        user_id=user.pk, email=user.email, name=user.mail_name, **overrides
    )


async def start_onboarding(client: Client, user, task_queue: str) -> WorkflowHandle:
    return await client.start_workflow(
        UserOnboardingWorkflow.run,
        onboarding_input(user),
        id=f"onboarding-{user.pk}-{task_queue}",
        task_queue=task_queue,
    )


async def wait_for_status(handle: WorkflowHandle, status: str) -> None:
    async with asyncio.timeout(10):
        while await handle.query(UserOnboardingWorkflow.status) != status:
            await asyncio.sleep(0.05)


async def test_onboarding_sends_welcome_then_follow_up_a_day_later(
    time_skipping_env, task_queue, user
):
    client = time_skipping_env.client
    started_at = await time_skipping_env.get_current_time()

    async with create_worker(client, task_queue=task_queue):
        result = await client.execute_workflow(
            UserOnboardingWorkflow.run,
            onboarding_input(user),
            id=f"onboarding-{user.pk}-{task_queue}",
            task_queue=task_queue,
        )

    await user.arefresh_from_db()
    assert result == {"status": "completed", "user_id": user.pk, "emails_sent": 2}
    assert [message.subject for message in mail.outbox] == [
        "Welcome!",
        "How is it going?",
    ]
    assert all(message.to == ["ada@example.com"] for message in mail.outbox)
    assert user.onboarded_at is not None
    skipped = await time_skipping_env.get_current_time() - started_at
    assert skipped >= timedelta(hours=24)


async def test_onboarding_status_query_shows_the_durable_wait(
    time_skipping_env, task_queue, user
):
    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        handle = await start_onboarding(client, user, task_queue)
        await wait_for_status(handle, "waiting to follow up")

        assert len(mail.outbox) == 1
        await handle.result()
        assert await handle.query(UserOnboardingWorkflow.status) == "completed"


async def test_onboarding_with_fake_activities(time_skipping_env, task_queue):
    """Fakes registered under the real names: the workflow alone is tested."""
    calls: list[tuple[str, int | str, str]] = []

    @activity.defn(name="process_user_activity")
    async def fake_process_user(payload: UserProcessingPayload) -> dict:
        calls.append(("process", payload.user_id, payload.action))
        return {"status": "processed"}

    @activity.defn(name="send_email_activity")
    async def fake_send_email(payload: EmailPayload) -> dict:
        calls.append(("email", payload.to, payload.subject))
        return {"status": "sent"}

    client = time_skipping_env.client
    async with create_worker(
        client, task_queue=task_queue, activities=[fake_process_user, fake_send_email]
    ):
        result = await client.execute_workflow(
            UserOnboardingWorkflow.run,
            OnboardingWorkflowInput(user_id=7, email="g@example.com", name="Grace"),
            id=f"onboarding-7-{task_queue}",
            task_queue=task_queue,
        )

    assert result["status"] == "completed"
    assert calls == [
        ("process", 7, "onboard"),
        ("email", "g@example.com", "Welcome!"),
        ("email", "g@example.com", "How is it going?"),
    ]


async def test_onboarding_fails_at_once_for_a_missing_user(
    time_skipping_env, task_queue
):
    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        with pytest.raises(WorkflowFailureError) as raised:
            await client.execute_workflow(
                UserOnboardingWorkflow.run,
                OnboardingWorkflowInput(
                    user_id=999_999, email="x@example.com", name="X"
                ),
                id=f"onboarding-999999-{task_queue}",
                task_queue=task_queue,
            )

    activity_error = raised.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "UserNotFound"
    assert mail.outbox == []


async def test_onboarding_follow_up_can_be_cancelled(
    time_skipping_env, task_queue, user
):
    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        handle = await start_onboarding(client, user, task_queue)
        await wait_for_status(handle, "waiting to follow up")
        await handle.signal(UserOnboardingWorkflow.cancel_follow_up)
        result = await handle.result()

    assert result["emails_sent"] == 1
    assert [message.subject for message in mail.outbox] == ["Welcome!"]


@pytest.fixture
def users(django_user_model):
    """1,200 users, created in bulk."""
    return django_user_model.objects.bulk_create(
        django_user_model(username=f"user{i}") for i in range(1200)
    )


def batch_input(**fields: Any) -> BatchProcessingWorkflowInput:
    defaults = dict[str, Any](
        batch_id="nightly", chunk_size=100, max_concurrent_chunks=3
    )
    return BatchProcessingWorkflowInput(**(defaults | fields))


@pytest.mark.parametrize(
    ("fields", "runs"),
    [
        pytest.param({}, 1, id="ids-one-run"),
        pytest.param({"chunks_per_run": 5}, 3, id="ids-continue-as-new"),
        pytest.param({"selection": "all"}, 1, id="selection-one-run"),
        pytest.param(
            {"selection": "all", "chunks_per_run": 5}, 3, id="selection-continue-as-new"
        ),
    ],
)
async def test_batch_processes_every_user_once_and_reports_failures(
    time_skipping_env, task_queue, users, django_user_model, fields, runs
):
    missing = [999_998, 999_999]
    if "selection" not in fields:
        fields["user_ids"] = [user.pk for user in users] + missing

    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        result = await client.execute_workflow(
            BatchProcessingWorkflow.run,
            batch_input(**fields),
            id=f"batch-nightly-{task_queue}",
            task_queue=task_queue,
        )

    failed = [] if "selection" in fields else missing
    assert result == {
        "status": "completed",
        "batch_id": "nightly",
        "processed": 1200,
        "failed_count": len(failed),
        "failed_ids": failed,
        "runs": runs,
    }
    processed = django_user_model.objects.filter(last_processed_at__isnull=False)
    assert await processed.acount() == 1200


async def test_batch_reports_a_bounded_list_of_failed_ids(
    time_skipping_env, task_queue
):
    missing = list(range(1_000_000, 1_002_500))
    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        result = await client.execute_workflow(
            BatchProcessingWorkflow.run,
            batch_input(user_ids=missing, chunk_size=500),
            id=f"batch-missing-{task_queue}",
            task_queue=task_queue,
        )

    assert result["processed"] == 0
    assert result["failed_count"] == 2500
    assert len(result["failed_ids"]) == 1000
    assert set(result["failed_ids"]) <= set(missing)


async def test_a_selection_goes_in_ranges_of_ids_that_no_id_list_follows(
    time_skipping_env, task_queue
):
    """The database plans the ranges and processes them: the workflow
    carries their bounds only, capped in size all the same."""
    total = 60_000
    plans, ranges = [], []

    @activity.defn(name="plan_user_ranges_activity")
    async def plan_ranges(payload: UserRangesPayload) -> list[dict]:
        plans.append(payload)
        bounds: list[dict] = []
        after_id = payload.after_id
        while len(bounds) < payload.count and after_id < total:
            last_id = min(after_id + payload.size, total)
            bounds.append(
                {"after_id": after_id, "last_id": last_id, "size": last_id - after_id}
            )
            after_id = last_id
        return bounds

    @activity.defn(name="process_user_range_activity")
    async def process_range(payload: UserRangePayload) -> dict:
        ranges.append((payload.after_id, payload.last_id))
        return {"processed": payload.last_id - payload.after_id}

    client = time_skipping_env.client
    async with create_worker(
        client, task_queue=task_queue, activities=[plan_ranges, process_range]
    ):
        result = await client.execute_workflow(
            BatchProcessingWorkflow.run,
            batch_input(chunk_size=10**6, selection="all"),
            id=f"batch-huge-ranges-{task_queue}",
            task_queue=task_queue,
        )

    assert result["processed"] == total
    assert {plan.size for plan in plans} == {MAX_IDS_PER_ACTIVITY}
    assert sorted(ranges) == [(0, 25_000), (25_000, 50_000), (50_000, 60_000)]
