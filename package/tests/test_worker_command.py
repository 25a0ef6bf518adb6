"""`manage.py run_temporal_worker` as a real process, against a real Temporal
dev server and the test database: it runs the onboarding workflow end to end,
serves its Prometheus metrics, and stops cleanly on SIGTERM, also while it
is still connecting."""

import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest

from django_temporal_bridge.testing import Worker, free_port
from temporal_app.workflows import OnboardingWorkflowInput

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_worker_runs_onboarding_and_exits_cleanly_on_sigterm(
    dev_server, user, tmp_path
):
    client = dev_server.client
    task_queue = f"worker-command-{uuid.uuid4()}"
    metrics = f"127.0.0.1:{free_port()}"
    with Worker(
        tmp_path,
        address=client.service_client.config.target_host,
        namespace=client.namespace,
        task_queue=task_queue,
        TEMPORAL_METRICS_BIND_ADDRESS=metrics,
    ) as worker:
        result = await client.execute_workflow(
            "user_onboarding",
            OnboardingWorkflowInput(
                user_id=user.pk,
                email=user.email,
                name=user.mail_name,
                follow_up_delay_seconds=1,
            ),
            id=f"onboarding-{user.pk}-{task_queue}",
            task_queue=task_queue,
            result_type=dict,
            # Fail, rather than wait forever, if the worker never runs it.
            execution_timeout=timedelta(seconds=30),
        )
        # The worker counts a completion once the server has taken it, which
        # can be just after the client has seen the result.
        wait_for_text(f"http://{metrics}/metrics", "temporal_workflow_completed")
        exit_code = worker.stop()

    assert result == {"status": "completed", "user_id": user.pk, "emails_sent": 2}
    assert exit_code == 0
    assert len(worker.emails()) == 2


def test_sigterm_while_connecting_stops_the_worker_cleanly(refusing, tmp_path):
    """Signal handlers come before the connection: as a container's PID 1
    the worker would otherwise ignore SIGTERM for as long as it retries
    (TEMPORAL_CONNECT_TIMEOUT_SECONDS) and be killed at the grace period."""
    health = f"127.0.0.1:{free_port()}"
    with Worker(
        tmp_path,
        address=refusing,
        namespace="default",
        task_queue="never-polled",
        TEMPORAL_WORKER_HEALTH_BIND_ADDRESS=health,
    ) as worker:
        wait_for_text(f"http://{health}/readyz", "connecting to Temporal")

        code = worker.stop(timeout=10)

        assert code == 0, worker.output()
        assert "SIGTERM received while connecting: stopping" in worker.output()


def wait_for_text(url: str, text: str) -> None:
    """Wait until the page at `url` says `text`, whatever its status (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                page = response.read().decode()
        except urllib.error.HTTPError as error:
            page = error.read().decode()
        except OSError:
            page = ""  # not listening yet
        if text in page:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{url} never said {text!r}")
