from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from django_temporal_bridge.client import TemporalUnavailable
from temporal_app.starters import start_onboarding


class Command(BaseCommand):
    help = (
        "Start the user_onboarding workflow for a user: a no-op while it runs "
        "or once it completed; started again if its last run failed."
    )

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
        try:
            start = start_onboarding(user, follow_up_delay_seconds=follow_up_delay)
        except TemporalUnavailable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Workflow {start.workflow_id}: {start.outcome}: {start.url}")
