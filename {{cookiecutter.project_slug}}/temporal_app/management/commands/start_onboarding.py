from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from temporal_app.starters import start_onboarding, workflow_url


class Command(BaseCommand):
    help = "Start the user_onboarding workflow for a user (a no-op if it ran before)."

    def add_arguments(self, parser):
        parser.add_argument("user_id", type=int)
        parser.add_argument(
            "--follow-up-delay",
            type=int,
            default=24 * 60 * 60,
            help="Seconds before the follow-up email (default: a day).",
        )

    def handle(self, *args, user_id, follow_up_delay, **options):
        try:
            user = get_user_model().objects.get(pk=user_id)
        except get_user_model().DoesNotExist:
            raise CommandError(f"User {user_id} does not exist") from None
        workflow_id = start_onboarding(user, follow_up_delay_seconds=follow_up_delay)
        self.stdout.write(f"Workflow {workflow_id}: {workflow_url(workflow_id)}")
