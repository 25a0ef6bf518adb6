"""Background tasks of temporal_app (Django's @task, run on the worker)."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from .models import EmailDelivery
from .workflows import EMAIL_DEADLINE

# A record must outlive its email's retries (EMAIL_DEADLINE) and any rerun of
# its workflow id, which re-sends once it is gone: 30 days leave time for those.
DEFAULT_EMAIL_RETENTION_DAYS = 30


@task
def purge_email_deliveries(older_than_days: int = DEFAULT_EMAIL_RETENTION_DAYS) -> dict:
    """Delete the email records claimed more than `older_than_days` ago."""
    if timedelta(days=older_than_days) < EMAIL_DEADLINE:
        raise ValueError(
            f"older_than_days={older_than_days}: a record younger than "
            f"{EMAIL_DEADLINE} may still be needed by a retrying email activity"
        )
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = EmailDelivery.objects.filter(claimed_at__lt=cutoff).delete()
    return {"deleted": deleted}
