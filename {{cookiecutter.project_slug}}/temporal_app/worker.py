"""The worker: what it runs, and how it starts and stops.

`create_worker` registers every workflow and activity of the project (tests
use it too, so they run exactly what production runs). `WorkerRunner` owns
the process lifecycle: connect (waiting for a server that is still starting),
poll the task queue, and shut down gracefully on SIGTERM or SIGINT.
"""

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from .activities import (
    fetch_user_ids_activity,
    process_user_activity,
    process_user_chunk_activity,
    send_email_activity,
    start_missing_onboardings_activity,
)
from .client import connect_when_ready, exit_now, sdk_runtime
from .interceptors import DjangoInterceptor
from .workflows import (
    BatchProcessingWorkflow,
    ReconcileOnboardingWorkflow,
    UserOnboardingWorkflow,
)

logger = logging.getLogger(__name__)

WORKFLOWS = [
    UserOnboardingWorkflow,
    BatchProcessingWorkflow,
    ReconcileOnboardingWorkflow,
]
ACTIVITIES = [
    send_email_activity,
    process_user_activity,
    process_user_chunk_activity,
    fetch_user_ids_activity,
    start_missing_onboardings_activity,
]


def create_worker(
    client: Client,
    *,
    task_queue: str,
    activities: Sequence[Callable] = ACTIVITIES,
    max_concurrent_activities: int = 20,
    max_concurrent_workflow_tasks: int = 100,
    graceful_shutdown_timeout: timedelta = timedelta(seconds=30),
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        interceptors=[DjangoInterceptor()],
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
    )


class WorkerRunner:
    """Run one worker until SIGTERM/SIGINT; a second signal forces the exit."""

    def __init__(
        self,
        *,
        address: str,
        namespace: str,
        task_queue: str,
        max_concurrent_activities: int,
        max_concurrent_workflow_tasks: int,
        graceful_shutdown_seconds: float,
        connect_timeout_seconds: float,
        metrics_bind_address: str = "",
    ) -> None:
        self.address = address
        self.namespace = namespace
        self.task_queue = task_queue
        self.max_concurrent_activities = max_concurrent_activities
        self.max_concurrent_workflow_tasks = max_concurrent_workflow_tasks
        self.graceful_shutdown = timedelta(seconds=graceful_shutdown_seconds)
        self.connect_timeout_seconds = connect_timeout_seconds
        self.metrics_bind_address = metrics_bind_address
        self._worker: Worker | None = None
        self._shutdown: asyncio.Task | None = None

    def run(self) -> None:
        """Run the worker as this process's main job, then end the process."""
        asyncio.run(self.arun())
        # Stopped cleanly, every connection closed: end the process without
        # the interpreter's teardown, which the SDK can crash.
        exit_now(0)

    async def arun(self) -> None:
        client = await self.connect()
        self._worker = create_worker(
            client,
            task_queue=self.task_queue,
            max_concurrent_activities=self.max_concurrent_activities,
            max_concurrent_workflow_tasks=self.max_concurrent_workflow_tasks,
            graceful_shutdown_timeout=self.graceful_shutdown,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.on_signal, sig)
        logger.info(
            "Worker polling task queue %r in namespace %r at %s",
            self.task_queue,
            self.namespace,
            self.address,
        )
        await self._worker.run()
        logger.info("Worker stopped")

    async def connect(self) -> Client:
        """Connect, retrying while the server starts up."""
        if self.metrics_bind_address:
            logger.info(
                "Prometheus metrics on http://%s/metrics", self.metrics_bind_address
            )
        return await connect_when_ready(
            self.connect_timeout_seconds,
            address=self.address,
            namespace=self.namespace,
            runtime=sdk_runtime(self.metrics_bind_address),
        )

    def on_signal(self, sig: signal.Signals) -> None:
        if self._shutdown is None:
            logger.info(
                "%s received: finishing in-flight activities (up to %s); "
                "send it again to stop at once",
                sig.name,
                self.graceful_shutdown,
            )
            assert self._worker is not None
            self._shutdown = asyncio.create_task(self._worker.shutdown())
        else:
            logger.warning("%s received again: exiting now", sig.name)
            os._exit(128 + sig)
