"""Reporting failed activities to Sentry from the worker, once each.

An activity that fails is retried by Temporal: reporting every attempt would
file one event per retry for one problem. `SentryInterceptor` reports a
failure when it is final: the last attempt its retry policy allows
(attempt >= maximum_attempts), a non-retryable error (an ApplicationError
with non_retryable=True, or an error type the policy lists as
non-retryable). An activity whose retries are unlimited (maximum_attempts 0,
Temporal's default and the example workflows' choice for transient errors)
has no final attempt, and one stuck for days must not stay invisible: its
failures are reported at attempts 1, 10, 100 and every 1,000th (tagged
temporal.final=false), so an outage files a handful of events, not one per
retry.

Each event carries the activity's context as tags: temporal.workflow_id,
temporal.workflow_type, temporal.activity_id, temporal.activity_type,
temporal.attempt and temporal.task_queue. The worker registers the
interceptor when SENTRY_DSN is set (django_temporal_bridge.interceptors).

A workflow task that fails (an exception in workflow code, a
non-deterministic change) is retried by Temporal until the code is fixed;
the SDK logs each failure at WARNING. `WorkflowTaskFailureHandler` reports
the first of them, once per workflow run and error in a worker process,
tagged temporal.workflow_id, temporal.workflow_type, temporal.run_id and
temporal.task_queue.

`without_email_addresses` is the SDK's `before_send` (config/sentry.py):
no event leaves the process with an email address in its text. The payload
codec keeps personal data out of Temporal; this keeps it out of Sentry.
"""

import logging
import re
from collections import OrderedDict
from typing import Any

import sentry_sdk
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


def is_final_failure(info: activity.Info, error: BaseException) -> bool:
    """Whether Temporal will not retry the activity after `error`."""
    if isinstance(error, ApplicationError) and error.non_retryable:
        return True
    policy = info.retry_policy
    if policy is None:  # the server's default policy: unlimited attempts
        return False
    error_type = error.type if isinstance(error, ApplicationError) else None
    if (error_type or type(error).__name__) in (policy.non_retryable_error_types or ()):
        return True
    return 0 < policy.maximum_attempts <= info.attempt


def should_report(info: activity.Info, error: BaseException) -> bool:
    """Whether to report this failure: a final one, or an attempt of an
    activity that retries without limit at 1, 10, 100 or a 1,000th."""
    if is_final_failure(info, error):
        return True
    policy = info.retry_policy
    unlimited = policy is None or policy.maximum_attempts == 0
    attempt = info.attempt
    return unlimited and (attempt in (1, 10, 100) or attempt % 1000 == 0)


def activity_tags(info: activity.Info) -> dict[str, str]:
    return {
        "temporal.workflow_id": info.workflow_id or "",
        "temporal.workflow_type": info.workflow_type or "",
        "temporal.activity_id": info.activity_id,
        "temporal.activity_type": info.activity_type,
        "temporal.attempt": str(info.attempt),
        "temporal.task_queue": info.task_queue,
    }


class SentryActivityInboundInterceptor(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except CancelledError:
            raise  # not a failure (completing asynchronously is no Exception)
        except Exception as error:
            info = activity.info()
            if should_report(info, error):
                with sentry_sdk.new_scope() as scope:
                    scope.set_tags(activity_tags(info))
                    final = is_final_failure(info, error)
                    scope.set_tag("temporal.final", str(final).lower())
                    sentry_sdk.capture_exception(error)
            raise


class SentryInterceptor(Interceptor):
    def intercept_activity(
        self, next: ActivityInboundInterceptor
    ) -> ActivityInboundInterceptor:
        return SentryActivityInboundInterceptor(next)


# The SDK's logger of workflow task failures, and the mark on their records.
WORKFLOW_TASK_LOGGER = "temporalio.worker._workflow_instance"
WORKFLOW_TASK_FAILURE = "WorkflowTaskFailure"


class WorkflowTaskFailureHandler(logging.Handler):
    """Report a failed workflow task once per workflow run and error."""

    MAX_REMEMBERED = 10_000  # (run, error) pairs; the oldest are forgotten

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._reported: OrderedDict[tuple[str, str], None] = OrderedDict()

    def emit(self, record: logging.LogRecord) -> None:
        marked = getattr(record, "__temporal_error_identifier", None)
        if marked != WORKFLOW_TASK_FAILURE or not record.exc_info:
            return
        error = record.exc_info[1]
        details = getattr(record, "temporal_workflow", {})
        key = (details.get("run_id", ""), f"{type(error).__name__}: {error}")
        if key in self._reported:
            return
        self._reported[key] = None
        if len(self._reported) > self.MAX_REMEMBERED:
            self._reported.popitem(last=False)
        with sentry_sdk.new_scope() as scope:
            scope.set_tags(
                {
                    f"temporal.{name}": str(details.get(name, ""))
                    for name in ("workflow_id", "workflow_type", "run_id", "task_queue")
                }
            )
            sentry_sdk.capture_exception(error)


# An email address wherever it appears: a message, an exception, a breadcrumb.
EMAIL_ADDRESS = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")


def without_email_addresses(event: Any, hint: Any = None) -> Any:
    """The event with each email address in its strings replaced by [email]
    (Sentry's before_send; its Event type is private to sentry_sdk)."""
    return _scrubbed(event)


def _scrubbed(value):
    if isinstance(value, str):
        return EMAIL_ADDRESS.sub("[email]", value)
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    return value


def report_workflow_task_failures() -> None:
    """Send the SDK's records of failed workflow tasks to Sentry (once)."""
    logger = logging.getLogger(WORKFLOW_TASK_LOGGER)
    if not any(isinstance(h, WorkflowTaskFailureHandler) for h in logger.handlers):
        logger.addHandler(WorkflowTaskFailureHandler())
