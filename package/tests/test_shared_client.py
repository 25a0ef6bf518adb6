"""The one client Django code shares in a process: reused from sync code,
async code and any thread; every call bounded when Temporal does not answer
or refuses the connection."""

import asyncio
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async

from django_temporal_bridge.client import TemporalUnavailable, shared_client

pytestmark = pytest.mark.integration


async def same(client):
    return client


async def test_sync_async_and_threaded_callers_share_one_client(temporal):
    from_async = await shared_client.acall(same)
    with ThreadPoolExecutor(max_workers=4) as threads:
        from_threads = list(
            await asyncio.gather(
                *(
                    asyncio.wrap_future(threads.submit(shared_client.call, same))
                    for _ in range(8)
                )
            )
        )

    assert all(client is from_async for client in from_threads)
    assert await from_async.service_client.check_health()


async def test_changed_settings_connect_again(
    temporal, settings, refusing, monkeypatch
):
    before = await shared_client.acall(same)
    address = os.environ["TEMPORAL_ADDRESS"]
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)

    with pytest.raises(TemporalUnavailable, match=re.escape(refusing)):
        await shared_client.acall(same)
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    after = await shared_client.acall(same)

    assert after is not before
    assert await after.service_client.check_health()


def test_a_threads_event_loop_is_closed_when_the_thread_ends(temporal):
    """ASGI servers run sync code on a new thread per request: each thread's
    loop must not outlive it (its selector and self-pipe stay open)."""
    loops = []

    async def record_loop(client):
        loops.append(asyncio.get_running_loop())

    thread = threading.Thread(target=shared_client.call, args=(record_loop,))
    thread.start()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert loops[0].is_closed()


async def test_an_explicit_timeout_is_the_operations_whole_budget(temporal, settings):
    """An operation of several round trips (the admin's, a result read back)
    gets the timeout its caller gives, not the per-call bound: a distant
    cluster needs the budget for all of them."""
    settings.TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = 0.2

    async def three_round_trips(client):
        for _ in range(3):
            await asyncio.sleep(0.15)  # each a distant round trip
            await client.service_client.check_health()
        return "answered"

    assert await shared_client.acall(three_round_trips, timeout=10) == "answered"
    with pytest.raises(TemporalUnavailable, match=r"did not answer within 0\.2 s"):
        await shared_client.acall(three_round_trips)


def test_waiting_inside_an_event_loop_is_refused():
    async def in_a_loop():
        shared_client.call(same)

    with pytest.raises(RuntimeError, match="use the async variant"):
        asyncio.run(in_a_loop())


@pytest.mark.parametrize(
    ("where", "message"),
    [
        pytest.param(
            "black_hole",
            "within 0.5 s (TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS)",
            id="no-answer",
        ),
        pytest.param("refusing", "Connection refused", id="refused"),
    ],
)
async def test_an_unreachable_temporal_fails_calls_within_the_timeouts(
    request, settings, where, message, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", request.getfixturevalue(where))
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.5

    # Bounded here too, so that a regression fails instead of hanging.
    async with asyncio.timeout(10):
        for _ in range(3):
            with pytest.raises(TemporalUnavailable, match=re.escape(message)):
                await sync_to_async(shared_client.call)(same)


async def test_calls_queued_behind_a_hung_connection_each_wait_one_timeout(
    settings, black_hole, monkeypatch
):
    """Ten signups at once while Temporal does not answer: each gives up
    after one connect timeout, not after the ones queued before it."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.5
    waited: list[float] = []

    def call() -> None:
        begin = time.monotonic()
        with pytest.raises(TemporalUnavailable):
            shared_client.call(same)
        waited.append(time.monotonic() - begin)

    async with asyncio.timeout(10):
        with ThreadPoolExecutor(max_workers=10) as threads:
            await asyncio.gather(
                *(asyncio.wrap_future(threads.submit(call)) for _ in range(10))
            )

    assert len(waited) == 10
    assert max(waited) < 2 * 0.5
