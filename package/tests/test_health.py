"""`GET /healthz` through Django's whole middleware stack, with the database
up, unreachable or (PostgreSQL) silent, and a probe's Host header."""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.urls import reverse

from django_temporal_bridge import health

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL server's behaviour"
)


@pytest.fixture
def database_settings(monkeypatch):
    """Change the default database's settings for the connections opened
    from now on (the health check opens its own)."""

    def change(**values):
        for key, value in values.items():
            monkeypatch.setitem(connections.settings["default"], key, value)

    return change


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_naming_the_database_when_it_is_unreachable(
    client, database_settings, refusing, tmp_path
):
    if connection.vendor == "postgresql":
        host, port = refusing.rsplit(":", 1)
        database_settings(HOST=host, PORT=port)
    else:
        database_settings(NAME=str(tmp_path / "no-such-directory" / "db.sqlite3"))

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "problem": "database unreachable (OperationalError)",
    }


@postgresql_only
def test_healthz_answers_503_in_bounded_time_when_the_database_is_silent(
    client, database_settings, monkeypatch
):
    monkeypatch.setattr(health, "DATABASE_TIMEOUT_SECONDS", 0.5)
    # A server that accepts connections and never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(10)
        database_settings(HOST="127.0.0.1", PORT=str(listener.getsockname()[1]))
        first = client.get(reverse("healthz"))
        check = health._check
        # The first check is still waiting (libpq's connect_timeout is 10 s):
        # the next probe waits for it rather than start another.
        second = client.get(reverse("healthz"))
        assert health._check is check
    # Closed, the listener refuses the waiting connection: the check ends.
    assert check.done.wait(timeout=10)

    assert first.status_code == second.status_code == 503
    assert first.json()["problem"] == "database did not answer within 0.5 s"
    assert second.json()["problem"] == "database did not answer within 0.5 s"


def test_concurrent_probes_share_the_check_in_flight(monkeypatch):
    """60 probes at once against a healthy database all answer ok: those
    that arrive while a check runs wait for its answer (they used to get
    503 at once)."""
    probes = 60
    arrived = threading.Semaphore(0)
    run = health._Check._run
    checks = []

    def run_once_all_arrived(check) -> None:
        checks.append(check)
        if len(checks) == 1:  # the first check: in flight until all arrived
            for _ in range(probes):
                arrived.acquire(timeout=10)
        run(check)

    monkeypatch.setattr(health._Check, "_run", run_once_all_arrived)

    def probe(_) -> str | None:
        arrived.release()
        return health.database_problem(10)

    with ThreadPoolExecutor(max_workers=probes) as pool:
        problems = list(pool.map(probe, range(probes)))

    assert problems == [None] * probes
    assert len(checks) < probes


@override_settings(ALLOWED_HOSTS=["app.example.com"], SECURE_SSL_REDIRECT=True)
def test_a_probe_with_an_unknown_host_over_plain_http_gets_200(client):
    # Kubernetes' probes ask http://<pod IP>:<port>/healthz.
    probe = client.get("/healthz", headers={"host": "10.1.2.3:8000"})
    page = client.get("/", headers={"host": "10.1.2.3:8000"})

    assert probe.status_code == 200
    assert page.status_code == 400  # the rest of the site still refuses that host
