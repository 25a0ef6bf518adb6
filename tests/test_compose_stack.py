"""The generated Docker Compose stack, run on a real Docker engine with
stand-in images (scripts/compose_smoke), and the fixes its first run needed,
each checked where it can break again. The tests that need the engine carry
the marker `compose`; the namespace job's run without it."""

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import free_port

from scripts import compose_smoke
from scripts.compose_smoke import engine, stand_ins

# What the smoke checks, in order; it raises at the first check that fails.
SMOKE_STEPS = [
    "bake the project",
    "resolve compose.yaml",
    "build the stand-in images",
    "build the project's Dockerfile",
    "docker compose up --wait",
    "one-shot services exited 0",
    "web and worker run as the non-root app user, under the image's init",
    "runserver serves a page and a static file",
    "the image's own command serves static files (gunicorn, WhiteNoise)",
    "a new user's onboarding starts",
    "welcome email sent, onboarding waits on its timer",
    "worker and Temporal restarted, workflow still there",
    "follow-up email sent, onboarding completed",
    "docker compose stop inside the grace period, worker exit 0",
    "docker compose down -v",
    "no container, network or volume left",
]


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args],
        env=engine.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


DATABASES = ["sqlite", "postgresql"]


@pytest.mark.compose
def test_compose_stack_runs_a_users_first_day_with_each_database(
    docker_engine, tmp_path
):
    """Both databases at once: the runs mostly wait on containers, and each
    has its own project name (containers, volumes, image tag) and ports."""

    def smoke(database: str) -> list[str]:
        answers = {"database": database, "project_name": f"Compose {database}"}
        steps = compose_smoke.smoke(answers, tmp_path / database, echo=lambda _: None)
        return [step.name for step in steps]

    with ThreadPoolExecutor(len(DATABASES)) as pool:
        runs = {database: pool.submit(smoke, database) for database in DATABASES}
        failures = {db: run.exception(timeout=900) for db, run in runs.items()}

    assert not any(failures.values()), failures
    for database, run in runs.items():
        assert run.result() == SMOKE_STEPS, database


@pytest.mark.compose
def test_postgres_is_healthy_only_once_it_listens_on_tcp(bake, docker_engine, tmp_path):
    """On a new volume the official image first runs its init scripts on a
    server that listens on the Unix socket only: a health check that passes
    then lets dependants start into "connection refused"."""
    project = bake({"database": "postgresql"})
    config = json.loads(
        subprocess.run(
            [compose_smoke.DOCKER_COMPOSE, "config", "--format", "json"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    kind, health_command = config["services"]["postgres"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    stand_ins.build(["postgres:17"])
    # An init script that holds the init-time server until the test says.
    init = tmp_path / "initdb"
    init.mkdir()
    hold = init / "hold.sh"
    hold.write_text(
        "#!/bin/sh\n"
        "for _ in $(seq 300); do [ -e /tmp/release ] && exit 0; sleep 0.2; done\n"
        "exit 1\n"
    )
    hold.chmod(0o755)  # executed, as the image does with executable scripts
    started = docker("run", "--detach", "--rm", "--env=POSTGRES_USER=app",
                     "--env=POSTGRES_PASSWORD=health-check-test", "--env=POSTGRES_DB=app",
                     f"--volume={init}:/docker-entrypoint-initdb.d:ro", "postgres:17")  # fmt: skip
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:

        def compose_health_check() -> int:
            return docker("exec", container, "sh", "-c", health_command).returncode

        # The init-time server answers on its socket (what plain pg_isready
        # asks) ...
        deadline = time.monotonic() + 60
        while docker("exec", container, "pg_isready", "-q").returncode != 0:
            assert time.monotonic() < deadline, "the init-time server never started"
            time.sleep(0.2)
        # ... and the stack's health check still says no.
        assert compose_health_check() != 0

        docker("exec", container, "touch", "/tmp/release")
        deadline = time.monotonic() + 60
        while compose_health_check() != 0:
            assert time.monotonic() < deadline, "never healthy after its init"
            time.sleep(0.2)
    finally:
        docker("rm", "--force", container)


@pytest.mark.compose
def test_temporal_cli_stand_in_runs_as_uid_1000_without_var_lib_temporal(
    docker_engine,
):
    """The fact behind the dev server's volume path (see its Dockerfile)."""
    image = "temporalio/temporal:1.9.1"
    stand_ins.build([image])

    checked = docker("run", "--rm", "--entrypoint=sh", image, "-c",
                     'id -u; echo "$HOME"; test ! -e /var/lib/temporal && echo absent')  # fmt: skip

    assert checked.stdout.split() == ["1000", "/home/temporal", "absent"], checked


# --- The full server's namespace job (runs in admin-tools, which has no
# stand-in: its script is run here with the same Temporal CLI) -----------------


def namespace_job(project, port: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["sh", project / "docker" / "temporal" / "create-namespace.sh"],
        env={
            "PATH": f"{stand_ins.TEMPORAL_CLI.parent}:{os.environ['PATH']}",
            "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
            "NAMESPACE": "orders",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_namespace_job_waits_for_a_server_that_is_not_ready_yet(bake):
    project = bake({"temporal_server": "postgresql"})
    port = free_port()
    job = namespace_job(project, port)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            job.wait(timeout=3)  # still waiting, not failed
        server = subprocess.Popen(
            [stand_ins.TEMPORAL_CLI, "server", "start-dev", "--headless", "--ip=127.0.0.1",
             f"--port={port}", f"--http-port={free_port()}",
             f"--metrics-port={free_port()}", "--log-level=error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            printed, _ = job.communicate(timeout=120)
            listed = subprocess.run(
                [stand_ins.TEMPORAL_CLI, "operator", "search-attribute", "list",
                 "--namespace=orders", f"--address=127.0.0.1:{port}", "--output=json"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        job.kill()

    assert job.returncode == 0, printed
    assert "Created namespace orders" in printed
    # The project's search attributes (tests/test_search_attributes.py keeps
    # the script's list equal to the Makefile's, the generated suite that one
    # equal to temporal_app/search_attributes.py).
    custom = json.loads(listed.stdout)["customAttributes"]
    assert custom == {
        "UserId": "INDEXED_VALUE_TYPE_INT",
        "BatchId": "INDEXED_VALUE_TYPE_KEYWORD",
    }


def test_namespace_job_gives_up_with_a_message(bake):
    project = bake({"temporal_server": "postgresql"})
    job = namespace_job(project, free_port(), WAIT_SECONDS="2")

    printed, _ = job.communicate(timeout=60)

    assert job.returncode == 1
    assert "is not healthy after 2s" in printed
