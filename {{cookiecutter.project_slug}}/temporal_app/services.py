"""The activities' side effects as plain functions, testable without Temporal."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import EmailDelivery

# Added to the mailer's timeout before a claim counts as dead: room for the
# database work and the later SMTP steps (the timeout bounds each reply).
CLAIM_MARGIN = timedelta(seconds=30)


class EmailInFlightError(Exception):
    """Another attempt is sending this email now (retryable)."""


def send_email_once(
    *, to: str, subject: str, body: str, from_email: str, idempotency_key: str
) -> bool:
    """Send an email unless its idempotency key was sent; return if it sent now.

    It commits a claim on the key, sends with no transaction open (a hung mail
    server must hold no connection, nor SQLite's write lock), then marks it
    sent. A crash between the server's acceptance and the mark sends twice:
    SMTP cannot close that window (docs: the outages guide, "Emails").
    """
    if transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "send_email_once() must not run inside transaction.atomic(): the "
            "transaction would stay open while the mail server answers."
        )
    if not idempotency_key:
        send_mail(subject, body, from_email, [to])
        return True
    claim = _claim(idempotency_key, to=to, subject=subject[:255])
    if claim is None:
        return False
    try:
        send_mail(subject, body, from_email, [to])
    except Exception:
        _release(claim)
        raise
    EmailDelivery.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    return True


def _claim(key: str, *, to: str, subject: str) -> EmailDelivery | None:
    """Commit a claim on the key (taking a stale one over); None if sent already."""
    now = timezone.now()
    try:
        return EmailDelivery.objects.create(
            idempotency_key=key, to=to, subject=subject, claimed_at=now
        )
    except IntegrityError:
        pass  # Claimed before: sent, being sent, or left by a dead attempt.
    claim = EmailDelivery.objects.filter(idempotency_key=key).first()
    if claim is not None and claim.sent_at is not None:
        return None
    # The attempt may wait this long for each reply of the mail server.
    timeout = settings.MAILERS["default"].get("OPTIONS", {}).get("timeout") or 0
    lifetime = timedelta(seconds=timeout) + CLAIM_MARGIN
    if claim is None or now - claim.claimed_at < lifetime:
        raise EmailInFlightError(f"Email {key!r} is being sent by another attempt")
    # Take the stale claim over, unless another attempt just did.
    taken = EmailDelivery.objects.filter(
        pk=claim.pk, claimed_at=claim.claimed_at, sent_at=None
    ).update(claimed_at=now, to=to, subject=subject)
    if not taken:
        raise EmailInFlightError(f"Email {key!r} is being sent by another attempt")
    claim.claimed_at = now
    return claim


def _release(claim: EmailDelivery) -> None:
    """Delete the claim after a failed send, unless another attempt took it."""
    EmailDelivery.objects.filter(
        pk=claim.pk, claimed_at=claim.claimed_at, sent_at=None
    ).delete()
