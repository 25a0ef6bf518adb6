"""Stand-ins of the onboarding's activities, registered under their names:
a worker with them runs user_onboarding without a database row to process
or an email to send (temporalio/samples-python tests this way)."""

from temporalio import activity

from temporal_app.activities import EmailPayload, UserProcessingPayload
from temporal_app.core.worker import create_worker


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
