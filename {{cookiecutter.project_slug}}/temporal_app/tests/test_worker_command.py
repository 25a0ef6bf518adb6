"""`manage.py run_temporal_worker` as a real process, against a real Temporal
dev server and the test database: it runs the onboarding workflow end to end
and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

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


def start_worker(address: str, task_queue: str, mail_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "TEMPORAL_ADDRESS": address,
    }
    command = ["manage.py", "run_temporal_worker", "--task-queue", task_queue]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=settings.BASE_DIR,
        env=env,
    )


async def test_worker_runs_onboarding_and_exits_cleanly_on_sigterm(
    dev_server, user, tmp_path
):
    client = dev_server.client
    task_queue = f"worker-command-{uuid.uuid4()}"
    worker = start_worker(
        client.service_client.config.target_host, task_queue, tmp_path / "mail"
    )
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
        )
        worker.send_signal(signal.SIGTERM)
        exit_code = worker.wait(timeout=30)
    finally:
        worker.kill()

    assert result == {"status": "completed", "user_id": user.pk, "emails_sent": 2}
    assert exit_code == 0
    assert len(list((tmp_path / "mail").iterdir())) == 2
