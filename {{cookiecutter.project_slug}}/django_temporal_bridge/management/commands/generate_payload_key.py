import datetime

from django.core.management.base import BaseCommand, CommandError

from django_temporal_bridge.encryption import KEY_ID, generate_key


class Command(BaseCommand):
    help = (
        "Print a new payload encryption key as a TEMPORAL_PAYLOAD_KEYS entry "
        "(key_id:base64-key). Put it first in TEMPORAL_PAYLOAD_KEYS to make it "
        "the current key, and keep the older entries after it."
    )
    # It must run while the keys configured are broken: that is when one
    # needs a new one.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "key_id",
            nargs="?",
            default=f"key-{datetime.date.today():%Y%m%d}",
            help="The key's id (default: key-<today's date>).",
        )

    def handle(self, *args, key_id, **options):
        if not KEY_ID.fullmatch(key_id):
            raise CommandError("A key id is letters, digits, '.', '_' and '-'")
        self.stdout.write(f"{key_id}:{generate_key()}")
