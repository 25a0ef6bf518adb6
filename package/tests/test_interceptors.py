"""Database connection hygiene around activities: a plain `def` activity
runs on a thread of the worker's pool, and leaves no connection open there
(a stale one would fail the next activity on that thread)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from django_temporal_bridge.interceptors import with_fresh_connections

pytestmark = pytest.mark.django_db(transaction=True)


def connected() -> bool:
    return connections["default"].connection is not None


def query_and_report() -> bool:
    get_user_model().objects.count()
    return connected()


def test_a_plain_def_activity_closes_its_connection_on_its_thread():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database ignores close()")
    with ThreadPoolExecutor(max_workers=1) as pool:
        was_connected = pool.submit(with_fresh_connections(query_and_report)).result()
        left_open = pool.submit(connected).result()

    assert was_connected
    assert not left_open
