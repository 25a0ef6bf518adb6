"""Activities run directly, as the seed README shows, and in Temporal's
ActivityEnvironment, against the test database and the locmem email backend."""

import pytest
from django.core import mail
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from temporal_app.activities import (
    EmailPayload,
    UserChunkPayload,
    UserProcessingPayload,
    process_user_activity,
    process_user_chunk_activity,
    send_email_activity,
)

# Activities do their ORM work on another thread, which only sees committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


async def test_send_email_uses_django_email_backend():
    result = await send_email_activity(
        EmailPayload(to="test@example.com", subject="Test", body="Test message")
    )

    assert result == {"status": "sent", "to": "test@example.com"}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["test@example.com"]
    assert mail.outbox[0].subject == "Test"


async def test_send_email_defaults_to_the_project_sender(settings):
    settings.DEFAULT_FROM_EMAIL = "team@example.com"

    await ActivityEnvironment().run(
        send_email_activity, EmailPayload(to="a@example.com", subject="S", body="B")
    )

    assert mail.outbox[0].from_email == "team@example.com"


async def test_process_user_onboards_once(user):
    payload = UserProcessingPayload(user_id=user.pk, action="onboard")

    result = await ActivityEnvironment().run(process_user_activity, payload)
    await user.arefresh_from_db()
    first_onboarded_at = user.onboarded_at
    await ActivityEnvironment().run(process_user_activity, payload)
    await user.arefresh_from_db()

    assert result == {"status": "processed", "user_id": user.pk, "action": "onboard"}
    assert first_onboarded_at is not None
    assert user.onboarded_at == first_onboarded_at


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        pytest.param(
            UserProcessingPayload(user_id=999_999), "UserNotFound", id="missing-user"
        ),
        pytest.param(
            UserProcessingPayload(user_id=1, action="explode"),
            "UnknownAction",
            id="unknown-action",
        ),
    ],
)
async def test_process_user_errors_are_not_retryable(payload, error_type):
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(process_user_activity, payload)

    assert raised.value.type == error_type
    assert raised.value.non_retryable


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
