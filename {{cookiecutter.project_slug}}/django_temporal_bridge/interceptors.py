"""Worker interceptors: what every activity needs around it.

A worker never goes through Django's request cycle, so nothing closes stale
database connections for it: after a database restart, or once CONN_MAX_AGE
has passed, the next query fails with "connection already closed". And
`sync_to_async` (which Django's async ORM also uses) sends all its work to one
shared thread by default, so concurrent activities would wait for each other.

`DjangoActivityInboundInterceptor` gives each async activity its own thread
for synchronous work, and closes old connections on that thread before and
after the activity runs; a plain `def` activity runs on a thread of the
worker's pool, and gets the same around it there.

With SENTRY_DSN set (and sentry-sdk installed), the worker also reports
failed activities and workflow tasks to Sentry, once each (sentry.py).

Tracing (tracing.py) is not here: it comes with the worker's client.
"""

import dataclasses
import functools
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


def with_fresh_connections(activity_function):
    """`activity_function`, closing old database connections around it on
    the thread it runs on (a thread of the worker's pool, for a plain `def`)."""

    @functools.wraps(activity_function)
    def run(*args):
        close_old_connections()
        try:
            return activity_function(*args)
        finally:
            connections.close_all()

    return run


class DjangoActivityInboundInterceptor(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if input.executor is not None:  # a plain `def` activity
            fn = with_fresh_connections(input.fn)
            return await super().execute_activity(dataclasses.replace(input, fn=fn))
        async with ThreadSensitiveContext():
            # Normally a fresh thread with no connection yet; inside an outer
            # thread-sensitive context it may hold one that went stale.
            await sync_to_async(close_old_connections)()
            try:
                return await super().execute_activity(input)
            finally:
                # The activity's thread ends with it: close its connections.
                await sync_to_async(connections.close_all)()


class DjangoInterceptor(Interceptor):
    def intercept_activity(
        self, next: ActivityInboundInterceptor
    ) -> ActivityInboundInterceptor:
        return DjangoActivityInboundInterceptor(next)


def worker_interceptors() -> list[Interceptor]:
    """The interceptors every worker of the project runs with."""
    interceptors: list[Interceptor] = [DjangoInterceptor()]
    if getattr(settings, "SENTRY_DSN", ""):
        from .sentry import SentryInterceptor, report_workflow_task_failures

        interceptors.append(SentryInterceptor())
        # Not an interceptor: the SDK logs workflow task failures itself.
        report_workflow_task_failures()
    return interceptors
