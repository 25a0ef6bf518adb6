"""Side effects the activities perform, as plain functions (testable without
Temporal)."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import EmailDelivery

# Added to the mailer's timeout to decide that a claim's attempt is dead: it
# covers the database work around the send and the SMTP steps after the first.
# (The timeout bounds each reply, not the whole exchange: a server that
# answers every step just in time can outlast a claim, and then get the
# email twice.)
CLAIM_MARGIN = timedelta(seconds=30)


class EmailInFlightError(Exception):
    """Another attempt is sending this email now. Retryable: Temporal tries
    the activity again later, and then finds it sent, or the claim stale."""


def send_email_once(
    *, to: str, subject: str, body: str, from_email: str, idempotency_key: str
) -> bool:
    """Send an email unless one with this idempotency key was sent already.

    Returns whether it sent now. No transaction is open while the mail
    server answers (a hung server would otherwise hold the database
    connection, and on SQLite every writer): the attempt commits a claim on
    the key, sends, then marks the claim sent. A key already sent returns
    False. A key claimed by an attempt that may still be sending raises
    EmailInFlightError (retryable); a claim older than the mailer's timeout
    plus CLAIM_MARGIN was left by an attempt that died, and is taken over. A
    failed send releases the claim, so a retry sends. Left open, as SMTP
    offers no way to close them: a crash (or a lost database, or a lost
    reply) between the mail server's acceptance and the record sends twice,
    and so can a server slow enough to outlast the claim (see CLAIM_MARGIN).
    An empty key sends unconditionally. Never call it inside
    transaction.atomic(): it refuses to.
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
    """Commit a claim on the key; None if its email was sent already."""
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
