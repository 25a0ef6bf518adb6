"""Replay tests: committed histories of real workflow runs must replay on the
current workflow code. A change that would break workflows already running
(a step added, removed or reordered without `workflow.patched()`) fails here.

After an intended, compatible change, record the histories again with
`make histories` (pytest --record-histories) and commit them.
"""

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from temporal_app.activities import EmailPayload, UserChunkPayload, UserPagePayload
from temporal_app.core.discovery import project_workflows
from temporal_app.core.worker import create_worker
from temporal_app.workflows import (
    BatchProcessingWorkflow,
    BatchProcessingWorkflowInput,
    OnboardingWorkflowInput,
    UserOnboardingWorkflow,
)

HISTORIES = Path(__file__).parent / "histories"


# Fake activities for recording: the histories hold their results, so the
# database plays no part.
@activity.defn(name="process_user_activity")
async def fake_process_user(payload) -> dict:
    return {"status": "processed"}


@activity.defn(name="send_email_activity")
async def fake_send_email(payload: EmailPayload) -> dict:
    return {"status": "sent", "to": payload.to, "already_sent": False}


@activity.defn(name="fetch_user_ids_activity")
async def fake_fetch_user_ids(payload: UserPagePayload) -> list[int]:
    return list(
        range(payload.after_id + 1, min(payload.after_id + payload.limit, 450) + 1)
    )


@activity.defn(name="process_user_chunk_activity")
async def fake_process_chunk(payload: UserChunkPayload) -> dict:
    return {"processed": len(payload.user_ids), "failed_ids": []}


async def cancel_follow_up(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(10):
        while (
            await handle.query(UserOnboardingWorkflow.status) != "waiting to follow up"
        ):
            await asyncio.sleep(0.05)
    await handle.signal(UserOnboardingWorkflow.cancel_follow_up)


# name: (workflow, input, something to do while it runs)
RECORDINGS = {
    "user_onboarding": (
        UserOnboardingWorkflow.run,
        OnboardingWorkflowInput(user_id=1, email="ada@example.com", name="Ada"),
        None,
    ),
    "user_onboarding_cancelled": (
        UserOnboardingWorkflow.run,
        OnboardingWorkflowInput(user_id=2, email="bob@example.com", name="Bob"),
        cancel_follow_up,
    ),
    "batch_processing": (
        BatchProcessingWorkflow.run,
        # 450 users, 50 per chunk, 4 chunks per run: three runs; the history
        # of the first run ends with continue-as-new.
        BatchProcessingWorkflowInput(
            batch_id="replay", selection="all", chunk_size=50, chunks_per_run=4
        ),
        None,
    ),
}


@pytest.mark.parametrize("name", RECORDINGS)
async def test_history_replays_on_current_code(name, request, time_skipping_env):
    path = HISTORIES / f"{name}.json"
    if request.config.getoption("--record-histories"):
        await record(time_skipping_env.client, name, path)
    history = WorkflowHistory.from_json(name, path.read_text())

    await Replayer(workflows=project_workflows()).replay_workflow(history)


async def record(client: Client, name: str, path: Path) -> None:
    run, input, during = RECORDINGS[name]
    task_queue = f"record-{name}"
    activities = [
        fake_process_user,
        fake_send_email,
        fake_fetch_user_ids,
        fake_process_chunk,
    ]
    async with create_worker(client, task_queue=task_queue, activities=activities):
        handle = await client.start_workflow(run, input, id=name, task_queue=task_queue)
        if during:
            await during(client, name)
        # The history of the first run (a batch continues as new after it).
        first_run = client.get_workflow_handle(name, run_id=handle.result_run_id)
        await handle.result()
        history = await first_run.fetch_history()
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")


@workflow.defn(name="user_onboarding", sandboxed=False)
class OnboardingWithoutTheWelcomeEmail:
    """A change that breaks running workflows: the welcome email is gone."""

    @workflow.run
    async def run(self, input: OnboardingWorkflowInput) -> dict:
        await workflow.execute_activity(
            "process_user_activity", input, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.sleep(timedelta(seconds=input.follow_up_delay_seconds))
        return {"status": "completed"}


async def test_a_non_deterministic_change_fails_replay():
    history = WorkflowHistory.from_json(
        "user_onboarding", (HISTORIES / "user_onboarding.json").read_text()
    )
    replayer = Replayer(
        workflows=[OnboardingWithoutTheWelcomeEmail],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )

    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(history)
