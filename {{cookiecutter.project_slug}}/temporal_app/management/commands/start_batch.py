from django.core.management.base import BaseCommand, CommandError

from apps.users.services import USER_ACTIONS, USER_SELECTIONS
from django_temporal_bridge.client import TemporalUnavailable
from temporal_app.starters import start_batch


class Command(BaseCommand):
    help = (
        "Start the batch_processing workflow for users given by id, or for a "
        "selection of users (--all, --selection)."
    )

    def add_arguments(self, parser):
        users = parser.add_mutually_exclusive_group(required=True)
        users.add_argument("user_ids", nargs="*", type=int, default=[])
        users.add_argument("--all", action="store_const", const="all", dest="selection")
        users.add_argument("--selection", choices=sorted(USER_SELECTIONS))
        parser.add_argument("--action", choices=sorted(USER_ACTIONS), default="process")
        parser.add_argument("--batch-id", default="", help="Default: a fresh id.")

    def handle(self, *args, user_ids, selection, action, batch_id, **options):
        if not user_ids and not selection:
            raise CommandError("Give user ids, --all or --selection")
        try:
            start = start_batch(
                user_ids=user_ids,
                selection=selection or "",
                action=action,
                batch_id=batch_id,
            )
        except (ValueError, TemporalUnavailable) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Workflow {start.workflow_id}: {start.outcome}: {start.url}")
