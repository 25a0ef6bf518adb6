from django.conf import settings
from django.core.management.base import BaseCommand

from temporal_app.worker import WorkerRunner


class Command(BaseCommand):
    help = (
        "Run a Temporal worker for this project's workflows and activities. "
        "SIGTERM or Ctrl-C stops it gracefully; a second one stops it at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--task-queue",
            default=settings.TEMPORAL_TASK_QUEUE,
            help="Task queue to poll (default: TEMPORAL_TASK_QUEUE, %(default)s).",
        )
        parser.add_argument(
            "--namespace",
            default=settings.TEMPORAL_NAMESPACE,
            help="Temporal namespace (default: TEMPORAL_NAMESPACE, %(default)s).",
        )
        parser.add_argument(
            "--address",
            default=settings.TEMPORAL_ADDRESS,
            help="Temporal frontend host:port (default: TEMPORAL_ADDRESS, "
            "%(default)s).",
        )
        parser.add_argument(
            "--max-concurrent-activities",
            type=int,
            default=settings.TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES,
            help="Activities run at once (default: %(default)s).",
        )
        parser.add_argument(
            "--max-concurrent-workflow-tasks",
            type=int,
            default=settings.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
            help="Workflow tasks run at once (default: %(default)s).",
        )
        parser.add_argument(
            "--graceful-shutdown-timeout",
            type=float,
            default=settings.TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS,
            help="Seconds in-flight activities get to finish on shutdown "
            "(default: %(default)s).",
        )

    def handle(self, *args, **options):
        WorkerRunner(
            address=options["address"],
            namespace=options["namespace"],
            task_queue=options["task_queue"],
            max_concurrent_activities=options["max_concurrent_activities"],
            max_concurrent_workflow_tasks=options["max_concurrent_workflow_tasks"],
            graceful_shutdown_seconds=options["graceful_shutdown_timeout"],
            connect_timeout_seconds=settings.TEMPORAL_CONNECT_TIMEOUT_SECONDS,
            metrics_bind_address=settings.TEMPORAL_METRICS_BIND_ADDRESS,
        ).run()
