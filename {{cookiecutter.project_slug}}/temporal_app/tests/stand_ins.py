"""Stand-ins of the onboarding's activities, registered under their names:
a worker with them runs user_onboarding without a database row to process
or an email to send (temporalio/samples-python tests this way). And an
incompatible change of user_onboarding, for the replay tests."""

from datetime import timedelta

from temporalio import activity, workflow

from django_temporal_bridge.worker import create_worker
from temporal_app.activities import EmailPayload, UserProcessingPayload
from temporal_app.workflows import OnboardingWorkflowInput


@activity.defn(name="process_user_activity")
async def process_user(payload: UserProcessingPayload) -> dict:
    return {"status": "processed"}


@activity.defn(name="send_email_activity")
async def send_email(payload: EmailPayload) -> dict:
    return {"status": "sent"}


def onboarding_worker(client, task_queue: str):
    """A worker of the project's workflows, with these activities."""
    return create_worker(
        client, task_queue=task_queue, activities=[process_user, send_email]
    )


@workflow.defn(name="user_onboarding", sandboxed=False)
class OnboardingWithoutTheWelcomeEmail:
    """A change that breaks running workflows: the welcome email is gone."""

    @workflow.run
    async def run(self, input: OnboardingWorkflowInput) -> dict:
        await workflow.execute_activity(
            "process_user_activity", input, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.sleep(timedelta(seconds=input.follow_up_delay_seconds))
        return {"status": "completed"}
