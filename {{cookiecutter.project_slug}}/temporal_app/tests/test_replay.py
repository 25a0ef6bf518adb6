"""Replay tests: committed histories of real workflow runs must replay on the
current workflow code. A change that would break workflows already running
(a step added, removed or reordered without `workflow.patched()`) fails here.

After an intended, compatible change, record the histories again with
`make histories` (pytest --record-histories) and commit them.
"""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from django_temporal_bridge.discovery import project_workflows
from django_temporal_bridge.task_workflows import (
    TASK_WORKFLOWS,
    DjangoTaskWorkflow,
    StartEnqueuedTasksWorkflow,
)
from django_temporal_bridge.tasks import StartEnqueuedTasksInput, TaskWorkflowInput
from django_temporal_bridge.worker import create_worker
from temporal_app.activities import (
    EmailPayload,
    UserChunkPayload,
    UserRangePayload,
    UserRangesPayload,
)
from temporal_app.workflows import (
    BatchProcessingWorkflow,
    BatchProcessingWorkflowInput,
    OnboardingWorkflowInput,
    UserOnboardingWorkflow,
)

from .stand_ins import OnboardingWithoutTheWelcomeEmail

HISTORIES = Path(__file__).parent / "histories"


# Fake activities for recording: the histories hold their results, so the
# database plays no part.
@activity.defn(name="process_user_activity")
async def fake_process_user(payload) -> dict:
    return {"status": "processed"}


@activity.defn(name="send_email_activity")
async def fake_send_email(payload: EmailPayload) -> dict:
    return {"status": "sent", "to": payload.to, "already_sent": False}


@activity.defn(name="process_user_chunk_activity")
async def fake_process_chunk(payload: UserChunkPayload) -> dict:
    return {"processed": len(payload.user_ids), "failed_ids": []}


@activity.defn(name="plan_user_ranges_activity")
async def fake_plan_user_ranges(payload: UserRangesPayload) -> list[dict]:
    ranges = []
    for after_id in range(payload.after_id, 450, payload.size)[: payload.count]:
        last_id = min(after_id + payload.size, 450)
        ranges.append(
            {"after_id": after_id, "last_id": last_id, "size": last_id - after_id}
        )
    return ranges


@activity.defn(name="process_user_range_activity")
async def fake_process_range(payload: UserRangePayload) -> dict:
    return {"processed": payload.last_id - payload.after_id}


@activity.defn(name="run_task_activity")
async def fake_run_task(input: TaskWorkflowInput) -> dict:
    return {"file": "exports/users.csv", "rows": len(input.args[0])}


@activity.defn(name="start_enqueued_tasks_activity")
async def fake_start_enqueued_tasks(input: StartEnqueuedTasksInput) -> dict:
    return {"started": 1, "already_started": 0}


async def cancel_follow_up(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(10):
        while (
            await handle.query(UserOnboardingWorkflow.status) != "waiting to follow up"
        ):
            await asyncio.sleep(0.05)
    await handle.signal(UserOnboardingWorkflow.cancel_follow_up)


# name: (workflow, input, something to do while it runs)
RECORDINGS: dict[str, tuple[Any, object, Any]] = {
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
    "batch_processing_ids": (
        BatchProcessingWorkflow.run,
        # 120 ids, 50 per chunk, 2 chunks per run: the first run's history
        # ends with continue-as-new.
        BatchProcessingWorkflowInput(
            batch_id="replay-ids",
            user_ids=list(range(1, 121)),
            chunk_size=50,
            chunks_per_run=2,
        ),
        None,
    ),
    "batch_processing_selection": (
        BatchProcessingWorkflow.run,
        # 450 users, 50 per range, 4 ranges per run: three runs; the history
        # of the first run ends with continue-as-new.
        BatchProcessingWorkflowInput(
            batch_id="replay", selection="all", chunk_size=50, chunks_per_run=4
        ),
        None,
    ),
    "django_task": (
        DjangoTaskWorkflow.run,
        TaskWorkflowInput(task_path="apps.users.tasks.export_users_csv", args=[[1, 2]]),
        None,
    ),
    "start_enqueued_tasks": (
        StartEnqueuedTasksWorkflow.run,
        StartEnqueuedTasksInput(),
        None,
    ),
}
# Every history in HISTORIES replays: those that RECORDINGS records, and
# others that are kept as they are, such as a path that a workflow.patched()
# keeps for older runs (batch_processing_selection_in_chunks: a selection
# paged into chunks of ids, before "selection-in-id-ranges"; remove it with
# that path) or a run exported from a server.
HISTORY_NAMES = sorted({*RECORDINGS, *(path.stem for path in HISTORIES.glob("*.json"))})


@pytest.mark.parametrize("name", HISTORY_NAMES)
async def test_history_replays_on_current_code(name, request, time_skipping_env):
    path = HISTORIES / f"{name}.json"
    if name in RECORDINGS and request.config.getoption("--record-histories"):
        await record(time_skipping_env.client, name, path)
    history = WorkflowHistory.from_json(name, path.read_text())

    replayer = Replayer(workflows=[*project_workflows(), *TASK_WORKFLOWS])
    await replayer.replay_workflow(history)


async def record(client: Client, name: str, path: Path) -> None:
    run, input, during = RECORDINGS[name]
    task_queue = f"record-{name}"
    activities: list[Callable] = [
        fake_process_user,
        fake_send_email,
        fake_process_chunk,
        fake_plan_user_ranges,
        fake_process_range,
        fake_run_task,
        fake_start_enqueued_tasks,
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
