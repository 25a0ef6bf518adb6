import asyncio

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError

from django_temporal_bridge import schedules
from django_temporal_bridge.client import connect_when_ready
from django_temporal_bridge.conf import setting
from django_temporal_bridge.config import client_profile

DONE = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "unchanged": "unchanged",
}


class Command(BaseCommand):
    help = (
        "Make the Temporal Schedules on the server match those declared in "
        "the installed apps' schedules.py: create, update and delete (a second "
        "run changes nothing). Run it on every deploy."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print every declared schedule and what the sync would do; "
            "change nothing.",
        )

    def handle(self, *args, dry_run, **options):
        try:
            changes = async_to_sync(self.sync)(dry_run)
        except schedules.InvalidScheduleError as error:
            raise CommandError(str(error)) from None
        for change in changes:
            done = DONE[change.action]
            if dry_run and change.action != "unchanged":
                done = f"would be {done}"
            line = f"{change.schedule_id}: {done}"
            if change.declared:
                line += f" ({change.declared.summary()})"
            self.stdout.write(line)
        if not changes:
            self.stdout.write("No schedules declared, none to delete.")

    async def sync(self, dry_run: bool) -> list[schedules.Change]:
        # A declaration that cannot become a schedule fails before connecting.
        for declared in schedules.declared_schedules():
            declared.schedule()
        # Bounded, so that a deploy step never hangs on Temporal.
        seconds = setting("TEMPORAL_CONNECT_TIMEOUT_SECONDS")
        try:
            async with asyncio.timeout(2 * seconds):
                client = await connect_when_ready(seconds)
                changes = await schedules.plan(client)
                if not dry_run:
                    await schedules.apply(client, changes)
        except (RuntimeError, TimeoutError) as error:
            raise CommandError(
                f"Temporal at {client_profile().address} did not answer within "
                f"{seconds:g} s (TEMPORAL_CONNECT_TIMEOUT_SECONDS): {error}"
            ) from None
        return changes
