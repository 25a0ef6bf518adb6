"""Activities run directly, as the seed README shows, and in Temporal's
ActivityEnvironment, against the test database and the locmem email backend."""

import pytest
from django.core import mail
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from temporal_app.activities import (
    EmailPayload,
    UserProcessingPayload,
    process_user_activity,
    send_email_activity,
)
from temporal_app.models import EmailDelivery

# Activities do their ORM work on another thread, which only sees committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


async def test_send_email_uses_django_email_backend():
    result = await send_email_activity(
        EmailPayload(to="test@example.com", subject="Test", body="Test message")
    )

    assert result["status"] == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["test@example.com"]
    assert mail.outbox[0].subject == "Test"


async def test_send_email_twice_with_one_key_sends_once():
    """As when Temporal retries the activity after it already sent."""
    payload = EmailPayload(
        to="a@example.com", subject="Hi", body="B", idempotency_key="onboarding-1/hi"
    )

    first = await ActivityEnvironment().run(send_email_activity, payload)
    retry = await ActivityEnvironment().run(send_email_activity, payload)

    assert len(mail.outbox) == 1
    assert (first["already_sent"], retry["already_sent"]) == (False, True)
    assert await EmailDelivery.objects.filter(
        idempotency_key="onboarding-1/hi"
    ).aexists()


async def test_a_failed_send_is_not_recorded(monkeypatch):
    """A failed send releases its claim on the key, so a retry sends (more
    in test_email.py)."""

    def broken_send(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("temporal_app.services.send_mail", broken_send)
    payload = EmailPayload(
        to="a@example.com", subject="S", body="B", idempotency_key="k"
    )
    with pytest.raises(ConnectionRefusedError):
        await ActivityEnvironment().run(send_email_activity, payload)
    monkeypatch.undo()

    await ActivityEnvironment().run(send_email_activity, payload)

    assert len(mail.outbox) == 1


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
