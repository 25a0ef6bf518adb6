"""How a user's onboarding is going (its run, `status` query and emails), bounded
by the shared client's timeouts: "unavailable" when Temporal is down."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from django_temporal_bridge.client import TemporalUnavailable, shared_client

from .models import EmailDelivery
from .starters import onboarding_workflow_id
from .visibility import status_label
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


async def _read_workflow(client: Client, workflow_id: str) -> tuple[str, str]:
    """The workflow's state and, while it runs, its step."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return NOT_STARTED, ""
        raise
    status = description.status or WorkflowExecutionStatus.RUNNING
    state = status_label(status)
    if status != WorkflowExecutionStatus.RUNNING:
        return state, ""
    # A worker answers the query: without one, it times out like any call.
    try:
        return state, await handle.query(UserOnboardingWorkflow.status)
    except WorkflowQueryFailedError:  # its workflow task fails: no step to show
        return state, ""


def onboarding_progress(user_id: int) -> OnboardingProgress:
    """Return how the onboarding of user `user_id` is going."""
    workflow_id = onboarding_workflow_id(user_id)
    try:
        state, step = shared_client.call(
            lambda client: _read_workflow(client, workflow_id)
        )
    except TemporalUnavailable:
        state, step = UNAVAILABLE, ""
    # Keys are `<workflow id>/<purpose>` (UserOnboardingWorkflow._send_email).
    sent = EmailDelivery.objects.filter(
        idempotency_key__startswith=f"{workflow_id}/", sent_at__isnull=False
    ).order_by("sent_at")
    emails = [SentEmail(email.subject, email.sent_at) for email in sent]
    return OnboardingProgress(workflow_id, state, step, emails)
