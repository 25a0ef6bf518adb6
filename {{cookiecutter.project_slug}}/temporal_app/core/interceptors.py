"""Worker interceptors: what every activity needs around it.

A worker never goes through Django's request cycle, so nothing closes stale
database connections for it: after a database restart, or once CONN_MAX_AGE
has passed, the next query fails with "connection already closed". And
`sync_to_async` (which Django's async ORM also uses) sends all its work to one
shared thread by default, so concurrent activities would wait for each other.

`DjangoActivityInboundInterceptor` gives each activity its own thread for
synchronous work, and closes old connections on that thread before and after
the activity runs.
"""

from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import close_old_connections, connections
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class DjangoActivityInboundInterceptor(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
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
