"""`manage.py replay_temporal_histories` against the session's dev server:
histories that the current code made replay; one that other code made
(a changed workflow registered under the same name, as a cluster holds after
an incompatible change) fails, naming its workflow id; no cluster, a clear
error in bounded time."""

import asyncio
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.worker import Worker

from django_temporal_bridge.replay import replayable
from django_temporal_bridge.tasks import TaskWorkflowInput
from temporal_app.tests.stand_ins import (
    OnboardingWithoutTheWelcomeEmail,
    onboarding_worker,
    process_user,
)
from temporal_app.workflows import OnboardingWorkflowInput

pytestmark = pytest.mark.integration


async def run_onboarding(client, worker, task_queue: str) -> str:
    """Run an onboarding on `worker`; return its workflow id once listed."""
    workflow_id = f"onboarding-{task_queue}"
    async with worker:
        await client.execute_workflow(
            "user_onboarding",
            OnboardingWorkflowInput(
                user_id=1,
                email="ada@example.com",
                name="Ada",
                follow_up_delay_seconds=0,
            ),
            id=workflow_id,
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
    async with asyncio.timeout(10):  # visibility follows shortly
        while not (await client.count_workflows(f"WorkflowId = '{workflow_id}'")).count:
            await asyncio.sleep(0.1)
    return workflow_id


async def replay(*args: str) -> str:
    """Run the command (in a thread: it runs an event loop of its own)."""
    return await asyncio.to_thread(call_command, "replay_temporal_histories", *args)


async def test_histories_of_the_current_code_replay(temporal, task_queue, capsys):
    await run_onboarding(temporal, onboarding_worker(temporal, task_queue), task_queue)

    await replay("--query", f"TaskQueue = '{task_queue}'")

    assert capsys.readouterr().out == "1 histories replayed.\n"


async def test_a_history_the_current_code_cannot_replay_is_named(temporal, task_queue):
    changed = Worker(
        temporal,
        task_queue=task_queue,
        workflows=[OnboardingWithoutTheWelcomeEmail],
        activities=[process_user],
    )
    workflow_id = await run_onboarding(temporal, changed, task_queue)

    with pytest.raises(CommandError) as failure:
        await replay("--query", f"TaskQueue = '{task_queue}'")

    assert "1 of 1 histories do not replay on this code" in str(failure.value)
    assert workflow_id in str(failure.value)


async def test_each_workflow_type_gets_its_own_limit(temporal, task_queue, capsys):
    """Frequent types (a task's, the outbox sweep's) must not crowd out the
    rare ones: --limit counts per type, running runs first."""
    await run_onboarding(temporal, onboarding_worker(temporal, task_queue), task_queue)
    await temporal.start_workflow(  # running: no worker polls this queue
        "django_task",
        TaskWorkflowInput(task_path="reports.tasks.build", args=[], kwargs={}),
        id=f"task-{task_queue}",
        task_queue=task_queue,
    )
    async with asyncio.timeout(10):  # visibility follows shortly
        while (await temporal.count_workflows(f"TaskQueue = '{task_queue}'")).count < 2:
            await asyncio.sleep(0.1)

    await replay("--limit", "1", "--query", f"TaskQueue = '{task_queue}'")

    assert capsys.readouterr().out == "2 histories replayed.\n"
    await temporal.get_workflow_handle(f"task-{task_queue}").terminate()


@workflow.defn(name="pinned", versioning_behavior=VersioningBehavior.PINNED)
class Pinned:
    @workflow.run
    async def run(self) -> None:
        pass


@workflow.defn(name="upgrading", versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class Upgrading:
    @workflow.run
    async def run(self) -> None:
        pass


def test_pinned_runs_are_not_replayed_they_never_meet_new_code():
    assert not replayable(Pinned)
    assert replayable(Upgrading)
    assert replayable(OnboardingWithoutTheWelcomeEmail)  # unversioned


@pytest.mark.parametrize("where", ["refusing", "black_hole"])
async def test_no_cluster_is_a_clear_error_within_the_timeout(
    where, request, monkeypatch
):
    address = request.getfixturevalue(where)
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)

    async with asyncio.timeout(10):
        with pytest.raises(CommandError) as failure:
            await replay("--timeout", "1")

    assert f"Temporal at {address} did not answer within 1 s" in str(failure.value)
