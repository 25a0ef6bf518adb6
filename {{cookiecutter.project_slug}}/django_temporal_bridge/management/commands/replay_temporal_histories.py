import asyncio
import re
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from django_temporal_bridge.client import connect
from django_temporal_bridge.config import client_profile
from django_temporal_bridge.replay import replay_recent_histories

UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """Parse "30m", "24h" or "7d"."""
    if not (match := re.fullmatch(r"(\d+)([mhd])", text)):
        raise ValueError(f"{text!r} is not a duration such as 30m, 24h or 7d")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Replay the histories of the project's recent workflows (running, or "
        "closed within --since) from the Temporal cluster that the TEMPORAL_* "
        "variables configure, on the current code; fail naming each workflow "
        "whose history does not replay. Run it before deploying a worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=duration,
            default="24h",
            help="Closed workflows count when they closed within this long "
            "(30m, 24h, 7d; default: %(default)s). Running ones always count.",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=200,
            help="Replay at most this many histories of each workflow type, "
            "running ones first, then the newest (default: %(default)s).",
        )
        parser.add_argument(
            "--query",
            default="",
            help="A visibility query that narrows the workflows further, "
            "e.g. \"TaskQueue = 'my-queue'\".",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10,
            help="Seconds to connect, at most (default: %(default)s).",
        )

    def handle(self, *args, since, limit, query, timeout, **options):
        report = asyncio.run(self.replay(since, limit, query, timeout))
        self.stdout.write(f"{report.replayed} histories replayed.")
        if report.failures:
            for run, error in report.failures.items():
                self.stderr.write(f"{run}: {error}")
            raise CommandError(
                f"{len(report.failures)} of {report.replayed} histories do not "
                f"replay on this code: {', '.join(report.failures)}"
            )

    async def replay(self, since: timedelta, limit: int, query: str, timeout: float):
        address = client_profile().address
        try:
            async with asyncio.timeout(timeout):
                client = await connect()
        except (RuntimeError, TimeoutError) as error:
            raise CommandError(
                f"Temporal at {address} did not answer within {timeout:g} s: "
                f"{error or 'no answer'}"
            ) from None
        return await replay_recent_histories(
            client, since=datetime.now(UTC) - since, limit=limit, query=query
        )
