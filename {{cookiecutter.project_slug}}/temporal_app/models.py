from django.db import models
from django.utils import timezone


class EmailDelivery(models.Model):
    """One email of `send_email_activity`, keyed by its idempotency key.

    Temporal retries an activity that failed or whose worker died, so the
    same email can be asked for twice; the key makes the second ask a no-op.
    A row without `sent_at` is a claim: an attempt is sending that email now,
    or died while it was (see services.send_email_once).
    """

    idempotency_key = models.CharField(max_length=255, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"
