"""Worker versioning, done for real: two builds of one worker deployment, as
worker processes on the session's dev server (the Temporal CLI's dev server
supports worker deployments), switched with the CLI commands of the
versioning guide. A rollout makes v2 current: a pinned run stays on v1, new
runs and auto-upgrading ones go to v2; a rollback makes v1 current again."""

import asyncio
import subprocess
import uuid
from datetime import timedelta

import pytest
from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from django_temporal_bridge.task_workflows import DjangoTaskWorkflow
from django_temporal_bridge.tasks import TaskWorkflowInput
from django_temporal_bridge.testing import Worker, installed_binary
from temporal_app.workflows import OnboardingWorkflowInput, UserOnboardingWorkflow

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAIT_FOR_FILE = "django_temporal_bridge.testing.wait_for_file"


async def set_current_version(client: Client, deployment: str, build_id: str) -> None:
    """`temporal worker deployment set-current-version`, once the build's
    workers have registered (on their first poll)."""
    request = DescribeWorkerDeploymentRequest(
        namespace=client.namespace, deployment_name=deployment
    )
    async with asyncio.timeout(60):
        while True:
            try:
                description = await client.workflow_service.describe_worker_deployment(
                    request
                )
            except RPCError:  # no build of the deployment has registered yet
                description = None
            if description and any(
                version.deployment_version.build_id == build_id
                for version in description.worker_deployment_info.version_summaries
            ):
                break
            await asyncio.sleep(0.2)
    command = [
        installed_binary("temporal"),
        *("worker", "deployment", "set-current-version"),
        *("--deployment-name", deployment, "--build-id", build_id, "--yes"),
        *("--address", client.service_client.config.target_host),
        *("--namespace", client.namespace),
    ]
    result = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


async def build_of(handle: WorkflowHandle) -> str:
    """The build id that the workflow's last task ran on."""
    description = await handle.describe()
    info = description.raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id


async def test_a_rollout_keeps_pinned_runs_on_their_build_and_a_rollback_undoes_it(
    dev_server, user, tmp_path
):
    client = dev_server.client
    task_queue = f"versioning-{uuid.uuid4()}"
    deployment = f"versioning-{uuid.uuid4().hex[:8]}"
    release, open_file = tmp_path / "release", tmp_path / "open"
    open_file.touch()

    def worker(build_id: str) -> Worker:
        return Worker(
            tmp_path,
            address=client.service_client.config.target_host,
            namespace=client.namespace,
            task_queue=task_queue,
            TEMPORAL_WORKER_DEPLOYMENT_NAME=deployment,
            TEMPORAL_WORKER_BUILD_ID=build_id,
        )

    async def run_task(path) -> str:
        return await client.execute_workflow(
            DjangoTaskWorkflow.run,
            TaskWorkflowInput(task_path=WAIT_FOR_FILE, args=[str(path)]),
            id=f"task-{uuid.uuid4()}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=60),
        )

    with worker("v1"), worker("v2"):
        await set_current_version(client, deployment, "v1")
        pinned = await client.start_workflow(
            DjangoTaskWorkflow.run,
            TaskWorkflowInput(task_path=WAIT_FOR_FILE, args=[str(release)]),
            id=f"pinned-{task_queue}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=60),
        )
        onboarding = await client.start_workflow(
            UserOnboardingWorkflow.run,
            OnboardingWorkflowInput(
                user_id=user.pk, email=user.email, name=user.mail_name
            ),
            id=f"onboarding-{task_queue}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=60),
        )
        async with asyncio.timeout(30):
            while (
                await onboarding.query(UserOnboardingWorkflow.status)
                != "waiting to follow up"
            ):
                await asyncio.sleep(0.1)

        # The rollout.
        await set_current_version(client, deployment, "v2")
        new_run = await run_task(open_file)
        release.touch()
        pinned_run = await pinned.result()
        await onboarding.signal(UserOnboardingWorkflow.cancel_follow_up)
        await onboarding.result()

        # The rollback.
        await set_current_version(client, deployment, "v1")
        run_after_rollback = await run_task(open_file)

    assert (pinned_run, await build_of(pinned)) == ("v1", "v1")
    assert new_run == "v2"
    assert await build_of(onboarding) == "v2"  # auto-upgraded
    assert run_after_rollback == "v1"
