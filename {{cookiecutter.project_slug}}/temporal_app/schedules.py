"""The example's periodic jobs, applied by `manage.py sync_temporal_schedules`
on every deploy (docs: the schedules guide)."""

from datetime import timedelta

from django.conf import settings
from temporalio.client import ScheduleOverlapPolicy

from django_temporal_bridge.schedules import DeclaredSchedule

from .tasks import purge_email_deliveries
from .workflows import BatchProcessingWorkflowInput, ReconcileOnboardingInput

RECONCILE_ONBOARDING = "reconcile-onboarding"
NIGHTLY_USER_BATCH = "nightly-user-batch"
PURGE_EMAIL_DELIVERIES = "purge-email-deliveries"


def declared_schedules() -> list[DeclaredSchedule]:
    """The schedules the server should have."""
    schedules = []
    if settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP:
        every = timedelta(
            seconds=settings.TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS
        )
        schedules.append(
            DeclaredSchedule(
                id=RECONCILE_ONBOARDING,
                workflow="reconcile_onboarding",
                arg=ReconcileOnboardingInput(),
                every=every,
                description="Starts onboarding for users who have none "
                "(signed up while Temporal was down).",
                overlap=ScheduleOverlapPolicy.SKIP,
                # After an outage one run is enough: it finds every user waiting.
                catchup_window=max(every, timedelta(minutes=1)),
            )
        )
    schedules.append(
        DeclaredSchedule(
            id=PURGE_EMAIL_DELIVERIES,
            task=purge_email_deliveries,
            cron="0 4 * * *",  # at 04:00 in settings.TIME_ZONE
            description="Deletes the email records older than 30 days.",
            overlap=ScheduleOverlapPolicy.SKIP,
            # Missed while Temporal was down: any time that day will do.
            catchup_window=timedelta(hours=12),
        )
    )
    schedules.append(
        DeclaredSchedule(
            id=NIGHTLY_USER_BATCH,
            workflow="batch_processing",
            # No batch id: each run takes nightly-<its time> from its workflow id.
            arg=BatchProcessingWorkflowInput(
                batch_id="", selection="active", action="process"
            ),
            workflow_id="batch-nightly",
            cron="0 3 * * *",  # at 03:00 in settings.TIME_ZONE
            description="Processes every active user, nightly.",
            # An example: an operator unpauses it (Web UI or `temporal schedule`).
            paused=True,
            overlap=ScheduleOverlapPolicy.SKIP,
            # Missed while Temporal was down: run it if back by 09:00 (before work).
            catchup_window=timedelta(hours=6),
        )
    )
    return schedules
