"""Django's task framework in a baked project, from the outside: a `@task`
function in a module of the project's own is enqueued from `manage.py
shell`, runs on `manage.py run_temporal_worker` against a real Temporal dev
server, and its result (a value, or an error) comes back through
`get_result()` in another `manage.py shell`; `run_after` defers one."""

import json
import os
import shutil
import socket
import subprocess
import time
from datetime import datetime

from conftest import free_port, output, run_in

# A module of the project's own, with no registration anywhere.
TASKS_MODULE = """
from django.tasks import task


@task
def multiply(a: int, b: int) -> int:
    return a * b


@task(max_attempts=1)
def divide(a: int, b: int) -> float:
    return a / b
"""

# Each shell ends with os._exit: it used the Temporal SDK, whose threads can
# crash the interpreter's teardown (the project's commands end the same way).
ENQUEUE = """
import json, os
from datetime import timedelta
from django.tasks import default_task_backend
from django.utils import timezone
from apps.users.arithmetic import divide, multiply

run_after = timezone.now() + timedelta(seconds=3)
ids = [
    multiply.enqueue(6, 7).id,
    divide.enqueue(1, 0).id,
    multiply.using(run_after=run_after).enqueue(2, 3).id,
]
deferred = default_task_backend.get_result(ids[2])
print(json.dumps({"ids": ids, "run_after": run_after.isoformat(),
                  "deferred_status": deferred.status}), flush=True)
os._exit(0)
"""

RESULTS = """
import json, os, time
from django.tasks import default_task_backend

ids = os.environ["TASK_IDS"].split()
deadline = time.monotonic() + 30
while True:
    results = [default_task_backend.get_result(id) for id in ids]
    if all(r.is_finished for r in results) or time.monotonic() > deadline:
        break
    time.sleep(0.2)
print(json.dumps([
    {
        "status": r.status,
        "value": r.return_value if r.status == "SUCCESSFUL" else None,
        "errors": [e.exception_class_path for e in r.errors],
        "traceback": "".join(e.traceback for e in r.errors),
        "attempts": r.attempts,
        "started_at": r.started_at.isoformat() if r.started_at else None,
    }
    for r in results
]), flush=True)
os._exit(0)
"""


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_task_of_the_project_runs_on_the_worker_command(
    bake, generated_venv, tmp_path
):
    project = tmp_path / "project"
    shutil.copytree(bake({}), project)
    (project / "apps" / "users" / "arithmetic.py").write_text(TASKS_MODULE.lstrip())
    port = free_port()
    (tmp_path / "temporal.toml").touch()  # no profile of this machine's
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_TASK_QUEUE": "arithmetic",
        "TEMPORAL_CONFIG_FILE": str(tmp_path / "temporal.toml"),
    }
    migrate = run_in(project, generated_venv, "python", "manage.py", "migrate", **env)
    assert migrate.returncode == 0, output(migrate)

    with (tmp_path / "temporal.log").open("w") as server_log:
        server = subprocess.Popen(
            [generated_venv / "bin" / "temporal", "server", "start-dev",
             "--headless", f"--port={port}", "--namespace=default",
             "--log-level=error"],
            stdout=server_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = None
    try:
        wait_for_port(port)
        with (tmp_path / "worker.log").open("w") as worker_log:
            worker = subprocess.Popen(
                [generated_venv / "bin" / "python", "manage.py",
                 "run_temporal_worker"],
                cwd=project, env={**os.environ, **env},
                stdout=worker_log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        enqueued = shell(project, generated_venv, env, ENQUEUE)
        results = shell(
            project, generated_venv, {**env, "TASK_IDS": " ".join(enqueued["ids"])},
            RESULTS,
        )  # fmt: skip
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        print((tmp_path / "worker.log").read_text()[-4000:])

    product, quotient, deferred = results
    assert enqueued["deferred_status"] == "READY"
    assert (product["status"], product["value"]) == ("SUCCESSFUL", 42)
    assert (quotient["status"], quotient["errors"]) == (
        "FAILED",
        ["builtins.ZeroDivisionError"],
    )
    assert "return a / b" in quotient["traceback"]
    assert quotient["attempts"] == 1
    assert (deferred["status"], deferred["value"]) == ("SUCCESSFUL", 6)
    run_after = datetime.fromisoformat(enqueued["run_after"])
    assert datetime.fromisoformat(deferred["started_at"]) >= run_after


def shell(project, venv, env: dict, code: str) -> dict | list:
    """Run `code` in `manage.py shell`; return the JSON it prints."""
    result = run_in(project, venv, "python", "manage.py", "shell", "-c", code, **env)
    assert result.returncode == 0, output(result)
    return json.loads(result.stdout.strip().splitlines()[-1])
