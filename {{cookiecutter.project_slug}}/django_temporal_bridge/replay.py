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
from temporalio.common import VersioningBehavior
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


def recent_workflows_queries(
    workflow_type: str, since: datetime, extra: str = ""
) -> list[str]:
    """The visibility queries of one type's runs worth replaying: the
    running ones first (the next deploy must carry them on), then those
    closed after `since` (and matching `extra`, when given)."""
    queries = [
        f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'",
        f"WorkflowType = '{workflow_type}' AND CloseTime > '{since.isoformat()}'",
    ]
    return [f"{query} AND ({extra})" if extra else query for query in queries]


def replayable(workflow_class: type) -> bool:
    """PINNED runs stay on the build that started them and never meet new
    code: on a versioned worker they are no test of a deploy."""
    behavior = workflow._Definition.must_from_class(workflow_class).versioning_behavior
    return behavior != VersioningBehavior.PINNED


async def replay_recent_histories(
    client: Client,
    *,
    since: datetime,
    limit: int,
    query: str = "",
    workflows: Sequence[type] | None = None,
) -> ReplayReport:
    """Replay up to `limit` recent histories of each workflow type of
    `workflows` (default: the worker's) in the client's namespace, so that
    frequent types do not crowd out rare ones; report those that fail."""
    workflows = worker_workflows() if workflows is None else list(workflows)
    types = sorted({workflow_type(w) for w in workflows if replayable(w)})
    runs: dict[int, str] = {}  # a history's id(): its run id

    async def executions():
        for name in types:
            left = limit
            for listing in recent_workflows_queries(name, since, query):
                if left <= 0:
                    break
                async for execution in client.list_workflows(listing, limit=left):
                    left -= 1
                    yield execution

    async def histories():
        async for execution in executions():
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
