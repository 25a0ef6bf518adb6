"""The worker's /livez and /readyz, served by a real worker process on the
session's dev server: not ready while it cannot reach Temporal, ready once
it polls, not ready (but alive) from SIGTERM until it exits."""

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import PendingActivityState

from django_temporal_bridge.testing import Worker, free_port
from django_temporal_bridge.worker_health import split_bind_address
from temporal_app.workflows import OnboardingWorkflowInput

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED


async def probe(address: str, path: str) -> tuple[int, dict]:
    """GET http://address/path: its status and JSON body (retrying while
    nothing listens yet)."""
    host, port = split_bind_address(address)
    async with asyncio.timeout(30):
        while True:
            try:
                reader, writer = await asyncio.open_connection(host, port)
                break
            except ConnectionRefusedError:
                await asyncio.sleep(0.1)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
        response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def wait_for(check, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


async def forward(port: int, target: str) -> asyncio.Server:
    """Start relaying TCP connections from 127.0.0.1:port to `target`: until
    then, connections to the port are refused, as to a Temporal that is down."""
    target_host, target_port = split_bind_address(target)

    async def pipe(reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def relay(client_reader, client_writer) -> None:
        reader, writer = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(
            pipe(client_reader, writer),
            pipe(reader, client_writer),
            return_exceptions=True,
        )

    return await asyncio.start_server(relay, "127.0.0.1", port)


async def test_readyz_follows_the_worker_from_connecting_to_draining(
    dev_server, user, tmp_path
):
    client = dev_server.client
    task_queue = f"worker-health-{uuid.uuid4()}"
    health = f"127.0.0.1:{free_port()}"
    temporal_port = free_port()  # refuses connections until `forward`
    with Worker(
        tmp_path,
        address=f"127.0.0.1:{temporal_port}",
        namespace=client.namespace,
        task_queue=task_queue,
        TEMPORAL_WORKER_HEALTH_BIND_ADDRESS=health,
        # The welcome email takes 2 s: time to probe a draining worker.
        email_backend="django_temporal_bridge.testing.SlowFileEmailBackend",
        SLOW_EMAIL_SECONDS="2",
    ) as worker:
        connecting = await probe(health, "/readyz")
        alive_while_connecting = await probe(health, "/livez")

        relay = await forward(temporal_port, client.service_client.config.target_host)
        try:

            async def ready() -> bool:
                return (await probe(health, "/readyz"))[0] == 200

            await wait_for(ready)
            handle = await client.start_workflow(
                "user_onboarding",
                OnboardingWorkflowInput(
                    user_id=user.pk, email=user.email, name=user.mail_name
                ),
                id=f"onboarding-{user.pk}-{task_queue}",
                task_queue=task_queue,
                execution_timeout=timedelta(seconds=60),
            )

            async def sending_email() -> bool:
                description = await handle.describe()
                return any(
                    pending.activity_type.name == "send_email_activity"
                    and pending.state == STARTED
                    for pending in description.raw_description.pending_activities
                )

            await wait_for(sending_email)
            worker.process.terminate()  # SIGTERM, with the email in flight
            draining = await probe(health, "/readyz")
            alive_while_draining = await probe(health, "/livez")
            exit_code = await asyncio.to_thread(worker.process.wait, 30)
        finally:
            # No new connections; the open ones end with the worker. (`async
            # with relay` would wait for them, with no bound: if this block
            # failed, the worker would still be running.)
            relay.close()

    assert connecting == (
        503,
        {"status": "not ready", "problem": "connecting to Temporal"},
    )
    assert alive_while_connecting == (200, {"status": "ok"})
    assert draining == (503, {"status": "not ready", "problem": "shutting down"})
    assert alive_while_draining == (200, {"status": "ok"})
    assert exit_code == 0
    assert len(worker.emails()) == 1  # the in-flight email was finished
