"""`manage.py run_temporal_worker` as a real process, against a real Temporal
dev server and the test database: it runs the onboarding workflow end to end
and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from temporalio.client import Client

from temporal_app.workflows import OnboardingWorkflowInput

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    """DATABASE_URL of the test database, for a process outside the test run."""
{%- if cookiecutter.database == "postgresql" %}
    from urllib.parse import quote

    db = connection.settings_dict
    host = quote(db["HOST"] or "localhost", safe="")
    credentials = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"
{%- else %}
    return f"sqlite:///{connection.settings_dict['NAME']}"
{%- endif %}


def start_worker(client: Client, task_queue: str, tmp_path: Path) -> subprocess.Popen:
    """`manage.py run_temporal_worker` on the test database; emails go to
    tmp_path/mail, its output to tmp_path/worker.log."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": client.namespace,
    }
    command = ["manage.py", "run_temporal_worker", "--task-queue", task_queue]
    with (tmp_path / "worker.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, *command],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_worker_runs_onboarding_and_exits_cleanly_on_sigterm(
    dev_server, user, tmp_path
):
    client = dev_server.client
    task_queue = f"worker-command-{uuid.uuid4()}"
    worker = start_worker(client, task_queue, tmp_path)
    try:
        result = await client.execute_workflow(
            "user_onboarding",
            OnboardingWorkflowInput(
                user_id=user.pk,
                email=user.email,
                name=user.display_name,
                follow_up_delay_seconds=1,
            ),
            id=f"onboarding-{user.pk}-{task_queue}",
            task_queue=task_queue,
            result_type=dict,
            # Fail, rather than wait forever, if the worker never runs it.
            execution_timeout=timedelta(seconds=30),
        )
        worker.send_signal(signal.SIGTERM)
        exit_code = worker.wait(timeout=30)
    finally:
        worker.kill()
        print((tmp_path / "worker.log").read_text())  # shown when the test fails

    assert result == {"status": "completed", "user_id": user.pk, "emails_sent": 2}
    assert exit_code == 0
    assert len(list((tmp_path / "mail").iterdir())) == 2
