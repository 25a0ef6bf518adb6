"""The one client Django code shares in a process: reused from sync code,
async code and any thread; every operation within its budget when Temporal
does not answer, refuses the connection or is a region away."""

import asyncio
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from temporalio.service import RPCError, RPCStatusCode

from django_temporal_bridge.client import TemporalUnavailable, shared_client
from django_temporal_bridge.testing import DelayingProxy

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
            "within 0.5 s (TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS)",
            id="no-answer",
        ),
        pytest.param("refusing", "Connection refused", id="refused"),
    ],
)
async def test_an_unreachable_temporal_fails_calls_within_their_budget(
    request, settings, where, message, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", request.getfixturevalue(where))
    settings.TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = 0.5

    # Bounded here too, so that a regression fails instead of hanging.
    async with asyncio.timeout(10):
        for _ in range(3):
            with pytest.raises(TemporalUnavailable, match=re.escape(message)):
                await sync_to_async(shared_client.call)(same)


async def test_a_connection_attempt_that_hangs_is_given_up_and_made_again(
    settings, black_hole, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.3

    with pytest.raises(
        TemporalUnavailable, match=r"within 0\.3 s \(TEMPORAL_CLIENT_CONNECT"
    ):
        await shared_client.acall(same, timeout=5)


async def test_calls_queued_behind_a_hung_connection_each_wait_their_own_budget(
    settings, black_hole, monkeypatch
):
    """Ten signups at once while Temporal does not answer: each gives up
    after its own budget, not after the ones queued before it."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_CLIENT_START_TIMEOUT_SECONDS = 0.5
    waited: list[float] = []

    def start() -> None:
        begin = time.monotonic()
        with pytest.raises(TemporalUnavailable, match="START_TIMEOUT"):
            shared_client.start(same)
        waited.append(time.monotonic() - begin)

    async with asyncio.timeout(10):
        with ThreadPoolExecutor(max_workers=10) as threads:
            await asyncio.gather(
                *(asyncio.wrap_future(threads.submit(start)) for _ in range(10))
            )

    assert len(waited) == 10
    assert max(waited) < 2 * 0.5


@pytest.fixture
def distant(temporal, monkeypatch):
    """The dev server 240 ms away (a proxy delays every byte)."""
    with DelayingProxy(os.environ["TEMPORAL_ADDRESS"], round_trip=0.24) as proxy:
        monkeypatch.setenv("TEMPORAL_ADDRESS", proxy.address)
        yield proxy


async def describe(client):
    """One round trip (the workflow does not exist)."""
    try:
        await client.get_workflow_handle("no-such-workflow").describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


@pytest.mark.parametrize(
    ("way", "setting"),
    [
        pytest.param("call", "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS", id="call"),
        pytest.param("start", "TEMPORAL_CLIENT_START_TIMEOUT_SECONDS", id="start"),
    ],
)
def test_with_the_network_gone_each_way_ends_at_its_budget_by_the_rpc_deadline(
    distant, settings, way, setting
):
    settings.TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = 1.5
    settings.TEMPORAL_CLIENT_START_TIMEOUT_SECONDS = 0.5
    shared_client.call(describe)  # connected
    distant.black_hole = True

    with pytest.raises(TemporalUnavailable) as raised:
        getattr(shared_client, way)(describe)

    seconds = getattr(settings, setting)
    assert f"did not answer within {seconds:g} s ({setting})" in str(raised.value)
    # Ended by the RPC's own deadline (the rest of the budget), which the
    # server sees too, not by being cancelled from outside.
    assert isinstance(raised.value.__cause__, RPCError)


@pytest.mark.django_db
def test_the_first_request_a_process_serves_connects_the_shared_client(distant, client):
    """Not its first start: a TLS handshake a region away would take most of
    that start's budget."""
    # As a new process starts: this one has served requests before.
    apps.get_app_config("django_temporal_bridge").ready()

    client.get("/")
    deadline = time.monotonic() + 10
    while not distant.connections:
        assert time.monotonic() < deadline, "the request did not connect"
        time.sleep(0.05)

    shared_client.start(describe)
    assert distant.connections == 1


@pytest.mark.django_db
def test_a_bad_connection_setting_fails_no_request_that_does_not_use_temporal(
    client, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_PAYLOAD_KEYS", "not-a-key")
    apps.get_app_config("django_temporal_bridge").ready()

    assert client.get("/").status_code == 200
    with pytest.raises(ImproperlyConfigured, match="TEMPORAL_PAYLOAD_KEYS"):
        shared_client.call(same)
