"""The batch's activities in Temporal's ActivityEnvironment, against the
test database: chunks and ranges of users, their heartbeats and the resume
from the last id done, and names refused for good."""

import dataclasses

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from temporal_app import activities
from temporal_app.activities import (
    UserChunkPayload,
    UserPagePayload,
    UserRange,
    UserRangePayload,
    UserRangesPayload,
    fetch_user_ids_activity,
    plan_user_ranges_activity,
    process_user_chunk_activity,
    process_user_range_activity,
)

# Activities do their ORM work on another thread, which only sees committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


async def test_process_user_chunk_reports_missing_users(django_user_model):
    users = [
        await django_user_model.objects.acreate(username=f"user{i}") for i in range(3)
    ]
    ids = [user.pk for user in users]

    result = await ActivityEnvironment().run(
        process_user_chunk_activity, UserChunkPayload(user_ids=[*ids, 999_999])
    )

    assert result == {"processed": 3, "failed_ids": [999_999]}
    assert (
        await django_user_model.objects.filter(last_processed_at__isnull=False).acount()
        == 3
    )


async def test_process_user_chunk_heartbeats_and_resumes(django_user_model):
    """A retry after a worker crash resumes after the last slice reported."""
    users = await django_user_model.objects.abulk_create(
        django_user_model(username=f"user{i}") for i in range(600)
    )
    ids = [user.pk for user in users]
    env = ActivityEnvironment()
    heartbeats = []
    env.on_heartbeat = heartbeats.append
    # The first attempt reported the first 500 users done before it died.
    env.info = dataclasses.replace(
        env.info, heartbeat_details=[{"done": 500, "failed_ids": [7]}]
    )

    result = await env.run(process_user_chunk_activity, UserChunkPayload(user_ids=ids))

    assert result == {"processed": 599, "failed_ids": [7]}
    assert heartbeats == [{"done": 600, "failed_ids": [7]}]
    processed = django_user_model.objects.filter(last_processed_at__isnull=False)
    assert await processed.acount() == 100  # only the users after the 500th


async def test_fetch_user_ids_pages_a_selection_in_id_order(django_user_model):
    users = await django_user_model.objects.abulk_create(
        django_user_model(username=f"user{i}", is_active=i % 2 == 0) for i in range(6)
    )
    active = [user.pk for user in users if user.is_active]

    first = await ActivityEnvironment().run(
        fetch_user_ids_activity, UserPagePayload("active", after_id=0, limit=2)
    )
    rest = await ActivityEnvironment().run(
        fetch_user_ids_activity, UserPagePayload("active", after_id=first[-1], limit=2)
    )

    assert first + rest == active


async def test_fetch_user_ids_rejects_an_unknown_selection():
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            fetch_user_ids_activity, UserPagePayload("everyone", after_id=0, limit=10)
        )

    assert raised.value.type == "UnknownSelection"
    assert raised.value.non_retryable


async def test_plan_user_ranges_splits_a_selection_in_id_order(django_user_model):
    users = await django_user_model.objects.abulk_create(
        django_user_model(username=f"user{i}", is_active=i % 2 == 0) for i in range(14)
    )
    active = [user.pk for user in users if user.is_active]  # seven of them

    def plan(after_id: int, count: int) -> list[UserRange]:
        payload = UserRangesPayload("active", after_id=after_id, size=3, count=count)
        return ActivityEnvironment().run(plan_user_ranges_activity, payload)

    assert await plan(0, count=5) == [
        UserRange(after_id=0, last_id=active[2], size=3),
        UserRange(after_id=active[2], last_id=active[5], size=3),
        UserRange(after_id=active[5], last_id=active[6], size=1),
    ]
    assert await plan(0, count=1) == [UserRange(0, active[2], 3)]
    assert await plan(active[6], count=5) == []


@pytest.fixture
async def selection_of_600(django_user_model):
    """600 active users, each followed by an inactive one; their ids."""
    users = await django_user_model.objects.abulk_create(
        django_user_model(username=f"user{i}", is_active=i % 2 == 0)
        for i in range(1200)
    )
    return [user.pk for user in users if user.is_active]


async def test_process_user_range_applies_the_action_to_its_selection_only(
    django_user_model, selection_of_600, monkeypatch
):
    monkeypatch.setattr(activities, "RANGE_SLICE", 7)  # several slices
    ids = selection_of_600
    payload = UserRangePayload("active", after_id=ids[9], last_id=ids[59])

    result = await ActivityEnvironment().run(process_user_range_activity, payload)

    assert result == {"processed": 50}
    processed = django_user_model.objects.filter(last_processed_at__isnull=False)
    assert [user.pk async for user in processed.order_by("pk")] == ids[10:60]


async def test_process_user_range_heartbeats_and_resumes(
    django_user_model, selection_of_600, monkeypatch
):
    """A retry after a worker crash resumes after the last id reported."""
    monkeypatch.setattr(activities, "RANGE_SLICE", 100)
    ids = selection_of_600
    env = ActivityEnvironment()
    heartbeats = []
    env.on_heartbeat = heartbeats.append
    # The first attempt reported 400 users done before it died.
    env.info = dataclasses.replace(
        env.info, heartbeat_details=[{"after_id": ids[399], "processed": 400}]
    )

    result = await env.run(
        process_user_range_activity,
        UserRangePayload("active", after_id=0, last_id=ids[-1]),
    )

    assert result == {"processed": 600}
    assert heartbeats == [
        {"after_id": ids[499], "processed": 500},
        {"after_id": ids[599], "processed": 600},
    ]
    processed = django_user_model.objects.filter(last_processed_at__isnull=False)
    assert await processed.acount() == 200  # only the users after the 400th


@pytest.mark.parametrize(
    ("activity_function", "payload", "error_type"),
    [
        pytest.param(
            plan_user_ranges_activity,
            UserRangesPayload("everyone", after_id=0, size=10, count=1),
            "UnknownSelection",
            id="plan-selection",
        ),
        pytest.param(
            process_user_range_activity,
            UserRangePayload("everyone", after_id=0, last_id=10),
            "UnknownSelection",
            id="range-selection",
        ),
        pytest.param(
            process_user_range_activity,
            UserRangePayload("all", after_id=0, last_id=10, action="delete"),
            "UnknownAction",
            id="range-action",
        ),
    ],
)
async def test_ranges_refuse_unknown_names_for_good(
    activity_function, payload, error_type
):
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(activity_function, payload)

    assert raised.value.type == error_type
    assert raised.value.non_retryable
