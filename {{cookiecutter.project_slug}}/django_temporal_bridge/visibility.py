"""Reading workflows back from Temporal's visibility store for Django pages:
the runs of a query, and a page of the project's task queue's recent runs.

Pages must not wait on Temporal: each call runs on the shared client within
`timeout` seconds in all, connecting included (TEMPORAL_ADMIN_TIMEOUT_SECONDS
by default), and raises TemporalUnavailable past it. The store follows the
workflows with a short delay: a run started a moment ago may not be listed.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from .client import shared_client
from .conf import setting
from .config import workflow_url


def status_label(status: WorkflowExecutionStatus | None) -> str:
    """A status as people read it ("continued as new")."""
    return status.name.lower().replace("_", " ") if status else "unknown"


def quoted(value: str) -> str:
    """A string literal of Temporal's list filter."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class WorkflowRun:
    """One run of a workflow, as the visibility store lists it."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: WorkflowExecutionStatus | None
    start_time: datetime

    @classmethod
    def of(cls, execution: WorkflowExecution) -> "WorkflowRun":
        return cls(
            workflow_id=execution.id,
            run_id=execution.run_id,
            workflow_type=execution.workflow_type,
            status=execution.status,
            start_time=execution.start_time,
        )

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def url(self) -> str:
        """The run in the Temporal Web UI."""
        return f"{workflow_url(self.workflow_id)}/{self.run_id}/history"


@dataclass(frozen=True)
class WorkflowPage:
    """A page of runs, and the token of the next one (None: the last page)."""

    runs: list[WorkflowRun]
    next_page_token: bytes | None


def bounded[T](operation: Callable[[Client], Awaitable[T]], timeout: float | None) -> T:
    """`shared_client.call(operation)` within `timeout` seconds, or the
    admin pages' TEMPORAL_ADMIN_TIMEOUT_SECONDS."""
    return shared_client.call(
        operation, timeout=timeout or setting("TEMPORAL_ADMIN_TIMEOUT_SECONDS")
    )


async def recent_workflows_with(
    client: Client, *, page_size: int, page_token: bytes | None = None
) -> WorkflowPage:
    """A page of the runs on the project's task queue (the server lists the
    running ones first, then the most recently closed)."""
    query = f"TaskQueue = {quoted(settings.TEMPORAL_TASK_QUEUE)}"
    listing = client.list_workflows(
        query, page_size=page_size, next_page_token=page_token
    )
    await listing.fetch_next_page()
    return WorkflowPage(
        runs=[WorkflowRun.of(execution) for execution in listing.current_page or []],
        next_page_token=listing.next_page_token or None,
    )


def recent_workflows(
    *, page_size: int, page_token: bytes | None = None, timeout: float | None = None
) -> WorkflowPage:
    """A page of the runs on the project's task queue, from the token of the
    previous page (None: the first)."""
    return bounded(
        lambda client: recent_workflows_with(
            client, page_size=page_size, page_token=page_token
        ),
        timeout,
    )
