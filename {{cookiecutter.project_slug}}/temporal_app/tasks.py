"""Background tasks of temporal_app, run by Django's task framework on the
worker (django_temporal_bridge/tasks.py)."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from .models import EmailDelivery
from .workflows import EMAIL_DEADLINE

# An email's idempotency key is `<workflow id>/<purpose>`. Its record must
# outlive every attempt that may ask for that key again: the activity's
# retries (for EMAIL_DEADLINE, one day) and a new run of the same workflow
# id (a failed onboarding that the reconcile-onboarding schedule starts
# again sends the welcome email only if its record is gone). Thirty days
# leave room for a failure to be noticed and the workflow restarted.
DEFAULT_EMAIL_RETENTION_DAYS = 30


@task
def purge_email_deliveries(older_than_days: int = DEFAULT_EMAIL_RETENTION_DAYS) -> dict:
    """Delete the email records claimed more than `older_than_days` ago
    (at least EMAIL_DEADLINE, when an activity may still retry); return how
    many went."""
    if timedelta(days=older_than_days) < EMAIL_DEADLINE:
        raise ValueError(
            f"older_than_days={older_than_days}: a record younger than "
            f"{EMAIL_DEADLINE} may still be needed by a retrying email activity"
        )
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = EmailDelivery.objects.filter(claimed_at__lt=cutoff).delete()
    return {"deleted": deleted}
