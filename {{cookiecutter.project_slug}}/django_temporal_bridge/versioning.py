"""Worker versioning: which build of the code runs which workflow.

With TEMPORAL_WORKER_DEPLOYMENT_NAME and TEMPORAL_WORKER_BUILD_ID set, the
worker joins that worker deployment as that build (worker.py), and Temporal
routes each workflow by its versioning behaviour, which each workflow class
declares: `@workflow.defn(versioning_behavior=declared(PINNED))`.

- PINNED: a run stays on the build it started on, to the end; that build's
  workers must run until its runs end. No patching needed.
- AUTO_UPGRADE: a run moves to the current build on its next task; its
  changes need `workflow.patched()`, as on an unversioned worker.

The docs' versioning guide shows a rollout and a rollback.
"""

from temporalio.common import VersioningBehavior

from .conf import setting


def versioned() -> bool:
    """Whether this process runs its workers versioned."""
    return bool(
        setting("TEMPORAL_WORKER_DEPLOYMENT_NAME")
        and setting("TEMPORAL_WORKER_BUILD_ID")
    )


def declared(behavior: VersioningBehavior) -> VersioningBehavior:
    """Return a workflow's versioning behaviour for its `@workflow.defn`:
    `behavior` on a versioned worker, none on an unversioned one.

    Temporal refuses a workflow task that carries a behaviour from an
    unversioned worker ("versioning behavior cannot be specified without
    deployment options being set with versioned mode"), and the SDK sends the
    declared one whatever the worker: so the declaration applies only where
    versioning is on. The sandbox imports workflows.py again for each run and
    so reads the setting again; a process is either versioned or not.
    """
    return behavior if versioned() else VersioningBehavior.UNSPECIFIED
