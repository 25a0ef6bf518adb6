"""Side effects the activities perform, as plain functions (testable without
Temporal)."""

from django.core.mail import send_mail
from django.db import transaction

from .models import EmailDelivery


def send_email_once(
    *, to: str, subject: str, body: str, from_email: str, idempotency_key: str
) -> bool:
    """Send an email unless one with this idempotency key was sent already.

    Returns whether it sent now. The delivery is recorded in the same
    transaction as the send: if sending fails, the record rolls back and a
    retry sends again; once it is committed, no retry sends again. (A crash
    between the mail server's acceptance and the commit can still send twice:
    SMTP offers no way to close that gap.) An empty key sends unconditionally.
    """
    if not idempotency_key:
        send_mail(subject, body, from_email, [to])
        return True
    with transaction.atomic():
        if EmailDelivery.objects.filter(idempotency_key=idempotency_key).exists():
            return False
        # A concurrent duplicate fails here on the unique key and is retried.
        EmailDelivery.objects.create(
            idempotency_key=idempotency_key, to=to, subject=subject[:255]
        )
        send_mail(subject, body, from_email, [to])
    return True
