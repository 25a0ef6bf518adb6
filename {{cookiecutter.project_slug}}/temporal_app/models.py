from django.db import models


class EmailDelivery(models.Model):
    """One email sent by `send_email_activity`, keyed by its idempotency key.

    Temporal retries an activity that failed or whose worker died, so the
    same email can be asked for twice; the key makes the second ask a no-op.
    """

    idempotency_key = models.CharField(max_length=255, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"
