"""The worker: what it runs, and how it starts and stops.

`create_worker` registers the workflows and activities of every installed app
(django_temporal_bridge.discovery), and those that run the apps' `@task`
functions (django_temporal_bridge.tasks: no task needs registering); tests use it
too, so they run exactly what production runs. `WorkerRunner` owns the
process lifecycle: connect (waiting for a server that is still starting),
poll the task queue, and shut down gracefully on SIGTERM or SIGINT; it
serves the worker's health checks (worker_health.py) when configured.
"""

import asyncio
import concurrent.futures
import logging
import os
import signal
from collections.abc import Callable, Sequence

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from .client import connect_when_ready, exit_now, sdk_runtime
from .config import WorkerSettings
from .discovery import project_activities, project_workflows
from .interceptors import worker_interceptors
from .task_workflows import TASK_WORKFLOWS
from .tasks import TASK_ACTIVITIES
from .worker_health import HealthServer

logger = logging.getLogger(__name__)


def create_worker(
    client: Client,
    *,
    task_queue: str,
    activities: Sequence[Callable] | None = None,
    options: WorkerSettings | None = None,
) -> Worker:
    """A worker for the project's workflows and tasks, and their activities
    (or the given ones: tests pass stand-ins)."""
    options = options or WorkerSettings.from_settings()
    # Activities written as plain `def` (sync ORM code, say) run on this pool;
    # its threads start only when one runs.
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=options.max_concurrent_activities,
        thread_name_prefix="activity",
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[*project_workflows(), *TASK_WORKFLOWS],
        activities=(
            [*project_activities(), *TASK_ACTIVITIES]
            if activities is None
            else activities
        ),
        activity_executor=executor,
        interceptors=worker_interceptors(),
        max_concurrent_activities=options.max_concurrent_activities,
        max_concurrent_workflow_tasks=options.max_concurrent_workflow_tasks,
        graceful_shutdown_timeout=options.graceful_shutdown,
        sticky_queue_schedule_to_start_timeout=options.sticky_queue_timeout,
        deployment_config=deployment_config(options),
    )


def deployment_config(options: WorkerSettings) -> WorkerDeploymentConfig | None:
    """Worker versioning, when TEMPORAL_WORKER_DEPLOYMENT_NAME and
    TEMPORAL_WORKER_BUILD_ID are set (None: an unversioned worker).

    Each of the project's workflows declares its versioning behaviour. One
    that does not (a new workflow of yours, say) moves to the current build
    on its next task, AUTO_UPGRADE, as on an unversioned worker: its changes
    need workflow.patched(), as always.
    """
    if not (options.deployment_name and options.build_id):
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=options.deployment_name, build_id=options.build_id
        ),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


class WorkerRunner:
    """Run one worker until SIGTERM/SIGINT; a second signal forces the exit."""

    def __init__(self, options: WorkerSettings) -> None:
        self.options = options
        self._worker: Worker | None = None
        self._connecting: asyncio.Future | None = None
        self._shutdown: asyncio.Future | None = None

    def run(self) -> None:
        """Run the worker as this process's main job, then end the process."""
        asyncio.run(self.arun())
        # Stopped cleanly, every connection closed: end the process without
        # the interpreter's teardown, which the SDK can crash.
        exit_now(0)

    async def arun(self) -> None:
        health = None
        if self.options.health_bind_address:
            # Before connecting: /livez answers, and /readyz says "connecting".
            health = HealthServer(
                self.options.health_bind_address, self.readiness_problem
            )
            await health.start()
        try:
            await self._run()
        finally:
            if health is not None:
                await health.stop()

    async def _run(self) -> None:
        # Handlers first: a signal while connecting (up to
        # TEMPORAL_CONNECT_TIMEOUT_SECONDS) stops the worker too, also as a
        # container's PID 1, which ignores signals it has no handler for.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.on_signal, sig)
        self._connecting = asyncio.ensure_future(self.connect())
        try:
            client = await self._connecting
        except asyncio.CancelledError:
            if self._shutdown is None:
                raise
            logger.info("Worker stopped before it connected")
            return
        self._worker = create_worker(
            client, task_queue=self.options.task_queue, options=self.options
        )
        logger.info(
            "Worker polling task queue %r in namespace %r at %s%s",
            self.options.task_queue,
            client.namespace,
            client.service_client.config.target_host,
            f" as build {self.options.build_id!r} of worker deployment "
            f"{self.options.deployment_name!r}"
            if self.options.build_id
            else "",
        )
        await self._worker.run()
        logger.info("Worker stopped")

    async def connect(self) -> Client:
        """Connect, retrying while the server starts up."""
        metrics = self.options.metrics_bind_address
        if metrics:
            logger.info("Prometheus metrics on http://%s/metrics", metrics)
        return await connect_when_ready(
            self.options.connect_timeout_seconds, runtime=sdk_runtime(metrics)
        )

    def readiness_problem(self) -> str | None:
        """Why the worker does not take work now, or None when it does."""
        if self._shutdown is not None:
            return "shutting down"
        if self._worker is None:
            return "connecting to Temporal"
        if not self._worker.is_running:  # checking the namespace
            return "starting"
        return None

    def on_signal(self, sig: signal.Signals) -> None:
        if self._shutdown is None and self._worker is None:
            logger.info("%s received while connecting: stopping", sig.name)
            # Set in _run before its first await, so before any handler runs.
            assert self._connecting is not None
            self._connecting.cancel()
            self._shutdown = self._connecting
        elif self._shutdown is None and self._worker is not None:
            logger.info(
                "%s received: finishing in-flight activities (up to %s); "
                "send it again to stop at once",
                sig.name,
                self.options.graceful_shutdown,
            )
            self._shutdown = asyncio.create_task(self._worker.shutdown())
        else:
            logger.warning("%s received again: exiting now", sig.name)
            os._exit(128 + sig)
