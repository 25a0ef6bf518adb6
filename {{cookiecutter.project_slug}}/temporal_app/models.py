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


class WorkflowRunList(models.Model):
    """The admin's Workflows page (temporal_app.admin): the runs it lists
    come from Temporal, so this model has no table. It gives the page its
    place in the admin index, and its permission: the page shows to staff
    who may view "workflows"."""

    class Meta:
        managed = False
        verbose_name = "workflow"
        verbose_name_plural = "workflows"

    def __str__(self) -> str:
        return "workflows"
