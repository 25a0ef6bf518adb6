"""The workflows of django.tasks on Temporal (see tasks.py): one runs a
task, one starts the tasks left in the outbox. The worker registers them
(worker.py): they serve every app's tasks."""

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from .tasks import (
        START_ENQUEUED_TASKS_WORKFLOW,
        TASK_HEARTBEAT_TIMEOUT,
        TASK_WORKFLOW,
        StartEnqueuedTasksInput,
        TaskWorkflowInput,
        run_task_activity,
        start_enqueued_tasks_activity,
    )
    from .versioning import declared


# PINNED: one activity, done within the task's attempts; a run finishes on
# the build that started it (the build's workers drain it after a deploy).
@workflow.defn(
    name=TASK_WORKFLOW, versioning_behavior=declared(VersioningBehavior.PINNED)
)
class DjangoTaskWorkflow:
    """Run one `@task` function as an activity, with the task's retry and
    timeout policy; return what it returns. The workflow fails when the
    last attempt does."""

    @workflow.run
    async def run(self, input: TaskWorkflowInput) -> Any:
        return await workflow.execute_activity(
            run_task_activity,
            input,
            start_to_close_timeout=timedelta(seconds=input.timeout_seconds),
            heartbeat_timeout=TASK_HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=input.max_attempts),
        )


# PINNED: one activity of minutes, started anew by its schedule each minute.
@workflow.defn(
    name=START_ENQUEUED_TASKS_WORKFLOW,
    versioning_behavior=declared(VersioningBehavior.PINNED),
)
class StartEnqueuedTasksWorkflow:
    """Start the tasks whose start failed after their enqueue (Temporal was
    down): the start-enqueued-tasks schedule runs it every minute."""

    @workflow.run
    async def run(self, input: StartEnqueuedTasksInput) -> dict:
        return await workflow.execute_activity(
            start_enqueued_tasks_activity,
            input,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            # The next scheduled run takes over after a long outage.
            schedule_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


TASK_WORKFLOWS = [DjangoTaskWorkflow, StartEnqueuedTasksWorkflow]
