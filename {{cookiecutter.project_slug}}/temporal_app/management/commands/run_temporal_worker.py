from django.core.management.base import BaseCommand

from django_temporal_bridge.config import WorkerSettings
from django_temporal_bridge.tracing import configure_tracing
from django_temporal_bridge.worker import WorkerRunner


class Command(BaseCommand):
    help = (
        "Run a Temporal worker for the workflows and activities of every "
        "installed app. It connects where the TEMPORAL_* variables say (as the "
        "Temporal CLI does) and runs with the TEMPORAL_WORKER_* settings. "
        "SIGTERM or Ctrl-C stops it gracefully; a second one stops it at once."
    )

    def add_arguments(self, parser):
        options = WorkerSettings.from_settings()
        parser.add_argument(
            "--task-queue",
            default=options.task_queue,
            help="Task queue to poll (default: TEMPORAL_TASK_QUEUE, %(default)s).",
        )

    def handle(self, *args, **options):
        # Before connecting: the client carries the tracing interceptor.
        configure_tracing("{{ cookiecutter.project_slug|replace('_', '-') }}-worker")
        WorkerRunner(
            WorkerSettings.from_settings(task_queue=options["task_queue"])
        ).run()
