"""How a user's onboarding is going (its run, `status` query and emails), bounded
by the shared client's timeouts: "unavailable" when Temporal is down."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from django_temporal_bridge.client import TemporalUnavailable, shared_client
from django_temporal_bridge.visibility import status_label, workflow_state_with

from .models import EmailDelivery
from .starters import onboarding_workflow_id
from .workflows import UserOnboardingWorkflow

# States besides the workflow's own statuses (running, completed, ...).
NOT_STARTED = "not started"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class SentEmail:
    subject: str
    sent_at: datetime

    def as_json(self) -> dict:
        return {
            "subject": self.subject,
            "sent_at": self.sent_at.isoformat(),
            # As the page shows it (the `date` filter's DATETIME_FORMAT).
            "sent_at_text": date_format(
                timezone.localtime(self.sent_at), "DATETIME_FORMAT"
            ),
        }


@dataclass(frozen=True)
class OnboardingProgress:
    workflow_id: str
    state: str  # running, completed, ... or NOT_STARTED, UNAVAILABLE
    step: str = ""  # the `status` query's answer while the workflow runs
    emails: list[SentEmail] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Whether the workflow has closed: nothing will change any more."""
        return self.state not in ("running", NOT_STARTED, UNAVAILABLE)

    @property
    def message(self) -> str:
        if self.state == UNAVAILABLE:
            return "Your onboarding status is unavailable right now."
        if self.state == NOT_STARTED:
            return "Your onboarding will start shortly."
        if self.state == "running":
            return f"Your onboarding is running: {self.step}."
        if self.state == "completed":
            return "Your onboarding is complete."
        return f"Your onboarding stopped ({self.state})."

    def as_json(self) -> dict:
        return {
            "workflow_id": self.workflow_id,
            "state": self.state,
            "step": self.step,
            "finished": self.finished,
            "message": self.message,
            "emails": [email.as_json() for email in self.emails],
        }


def onboarding_progress(user_id: int) -> OnboardingProgress:
    """Return how the onboarding of user `user_id` is going."""
    workflow_id = onboarding_workflow_id(user_id)
    try:
        found = shared_client.call(
            lambda client: workflow_state_with(
                client, workflow_id, query=UserOnboardingWorkflow.status
            )
        )
    except TemporalUnavailable:
        state, step = UNAVAILABLE, ""
    else:
        state = status_label(found.status) if found.status else NOT_STARTED
        step = found.step
    # Keys are `<workflow id>/<purpose>` (UserOnboardingWorkflow._send_email).
    sent = EmailDelivery.objects.filter(
        idempotency_key__startswith=f"{workflow_id}/", sent_at__isnull=False
    ).order_by("sent_at")
    emails = [SentEmail(e.subject, e.sent_at) for e in sent if e.sent_at]
    return OnboardingProgress(workflow_id, state, step, emails)
