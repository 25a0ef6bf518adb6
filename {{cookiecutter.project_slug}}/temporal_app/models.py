from django.db import models
from django.utils import timezone


class EmailDelivery(models.Model):
    """An email of `send_email_activity`, by idempotency key (a retry sends none);
    without `sent_at`, a claim: being sent, or left by a dead attempt."""

    idempotency_key = models.CharField(max_length=255, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"
