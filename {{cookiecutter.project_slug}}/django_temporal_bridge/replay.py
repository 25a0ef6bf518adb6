"""Replay the histories of a cluster's recent workflows on the current code.

The histories a project's replay tests commit cover the paths that its
tests record; a cluster holds the paths that real runs took, and the runs
still waiting (on a timer of a day, say) that the next deploy must carry
on. Before a deploy, `manage.py replay_temporal_histories`
fetches those of the last day (running, or closed since) and replays each
through `Replayer` with the workflows that the worker would register: a
change that would break one of them names its workflow id before it
reaches a worker.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Replayer

from .discovery import project_workflows
from .task_workflows import TASK_WORKFLOWS


@dataclass
class ReplayReport:
    replayed: int = 0
    # "workflow id (run run id)": why its history does not replay
    failures: dict[str, str] = field(default_factory=dict)


def worker_workflows() -> list[type]:
    """The workflows that the worker registers (core/worker.py)."""
    return [*project_workflows(), *TASK_WORKFLOWS]


def workflow_type(workflow_class: type) -> str:
    return workflow._Definition.must_from_class(workflow_class).name or ""


def recent_workflows_query(
    workflow_types: Sequence[str], since: datetime, extra: str = ""
) -> str:
    """A visibility query for the runs of these types that are running or
    closed after `since` (and match `extra`, when given)."""
    types = ", ".join(f"'{name}'" for name in sorted(workflow_types))
    query = (
        f"WorkflowType IN ({types}) AND (ExecutionStatus = 'Running' "
        f"OR CloseTime > '{since.isoformat()}')"
    )
    return f"{query} AND ({extra})" if extra else query


async def replay_recent_histories(
    client: Client,
    *,
    since: datetime,
    limit: int,
    query: str = "",
    workflows: Sequence[type] | None = None,
) -> ReplayReport:
    """Replay up to `limit` recent histories of the client's namespace on
    `workflows` (default: the worker's); report those that fail."""
    workflows = worker_workflows() if workflows is None else list(workflows)
    executions = client.list_workflows(
        recent_workflows_query([workflow_type(w) for w in workflows], since, query),
        limit=limit,
    )
    runs: dict[int, str] = {}  # a history's id(): its run id

    async def histories():
        async for execution in executions:
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            history = await handle.fetch_history()
            runs[id(history)] = execution.run_id
            yield history

    # The client's data converter: payloads are decoded as the worker would.
    replayer = Replayer(workflows=workflows, data_converter=client.data_converter)
    report = ReplayReport()
    async with replayer.workflow_replay_iterator(histories()) as results:
        async for result in results:
            report.replayed += 1
            if result.replay_failure is not None:
                history = result.history
                run = f"{history.workflow_id} (run {runs[id(history)]})"
                report.failures[run] = str(result.replay_failure)
    return report
