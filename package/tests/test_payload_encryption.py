"""Private payloads, end to end on a real Temporal dev server: with keys
set, the history that Temporal keeps (fetched with the Temporal CLI, as an
operator would) holds neither the user's email address nor their name, the
workflow still completes, and the Web UI's codec endpoint gives them back to
staff users only. Without keys, the same history shows them."""

import asyncio
import base64
import binascii
import contextlib
import json
import re
import subprocess

import pytest
from asgiref.sync import sync_to_async as sync
from django.core import mail
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from django_temporal_bridge.client import connect
from django_temporal_bridge.discovery import project_workflows
from django_temporal_bridge.encryption import data_converter, generate_key
from django_temporal_bridge.starting import StartOutcome
from django_temporal_bridge.task_workflows import TASK_WORKFLOWS
from django_temporal_bridge.testing import installed_binary
from django_temporal_bridge.worker import create_worker
from temporal_app.starters import start_onboarding
from temporal_app.tests.test_replay import HISTORIES

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EMAIL = "zelda.quimbyworth@example.org"
FIRST_NAME, LAST_NAME = "Zelda", "Quimbyworth"
UI_ORIGIN = "http://temporal-ui.example.com:8080"


@pytest.fixture
def private_user(django_user_model):
    return django_user_model.objects.create_user(
        username="zq", email=EMAIL, first_name=FIRST_NAME, last_name=LAST_NAME
    )


def raw_history(client: Client, workflow_id: str, *options: str) -> str:
    """The workflow's history as `temporal workflow show --output json`
    prints it (without a codec, unless `options` give one)."""
    shown = subprocess.run(
        [
            installed_binary("temporal"),
            "workflow",
            "show",
            f"--workflow-id={workflow_id}",
            f"--address={client.service_client.config.target_host}",
            f"--namespace={client.namespace}",
            "--output=json",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return shown.stdout


def readable(history: str) -> str:
    """The history's text, and every base64 string in it decoded: what
    anyone who can read the history can read."""
    decoded = []
    for text in re.findall(r'"([A-Za-z0-9+/]{4,}={0,2})"', history):
        with contextlib.suppress(binascii.Error):
            decoded.append(
                base64.b64decode(text, validate=True).decode(errors="replace")
            )
    return "\n".join([history, *decoded])


async def onboard(user, task_queue: str) -> tuple[str, dict]:
    """Start the user's onboarding as Django does and run it on a worker
    connected as the worker command connects; return its workflow id and
    result."""
    client = await connect()
    async with create_worker(client, task_queue=task_queue):
        start = await sync(start_onboarding)(user, follow_up_delay_seconds=0)
        assert start.outcome == StartOutcome.STARTED
        # Bounded: a worker that cannot read the input retries for ever.
        async with asyncio.timeout(60):
            result = await client.get_workflow_handle(start.workflow_id).result()
    return start.workflow_id, result


async def test_with_keys_the_history_holds_neither_email_nor_name(
    temporal, task_queue, settings, private_user, admin_user, client, live_server
):
    settings.TEMPORAL_PAYLOAD_KEYS = f"test:{generate_key()}"
    settings.TEMPORAL_UI_URL = UI_ORIGIN

    workflow_id, result = await onboard(private_user, task_queue)

    assert result == {
        "status": "completed",
        "user_id": private_user.pk,
        "emails_sent": 2,
    }
    assert [message.to for message in mail.outbox] == [[EMAIL], [EMAIL]]
    history = raw_history(temporal, workflow_id)
    assert "binary/encrypted" in readable(history)
    for secret in (EMAIL, FIRST_NAME, LAST_NAME):
        assert secret not in readable(history)
    # The Web UI's codec call gives them back to a staff user.
    events = json.loads(history)["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    await sync(client.force_login)(admin_user)
    response = await sync(client.post)(
        "/temporal-codec/decode",
        json.dumps({"payloads": started["input"]["payloads"]}),
        content_type="application/json",
        headers={"Origin": UI_ORIGIN, "X-Namespace": temporal.namespace},
    )
    assert response.status_code == 200
    decoded = base64.b64decode(response.json()["payloads"][0]["data"]).decode()
    assert EMAIL in decoded
    assert f"{FIRST_NAME} {LAST_NAME}" in decoded
    # So does Temporal's own codec client, the CLI's, with a staff session.
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    decoded_history = raw_history(
        temporal,
        workflow_id,
        f"--codec-endpoint={live_server.url}/temporal-codec",
        f"--codec-header=Cookie={cookie}",
    )
    assert EMAIL in readable(decoded_history)


async def test_without_keys_the_history_shows_email_and_name(
    temporal, task_queue, settings, private_user
):
    """The check of the test above can fail: it sees them when they are there."""
    settings.TEMPORAL_PAYLOAD_KEYS = ""

    workflow_id, result = await onboard(private_user, task_queue)

    assert result["status"] == "completed"
    history = readable(raw_history(temporal, workflow_id))
    assert EMAIL in history
    assert f"{FIRST_NAME} {LAST_NAME}" in history


async def test_histories_written_before_the_keys_were_set_replay_while_allowed(
    settings,
):
    """Turning encryption on keeps running workflows running while
    TEMPORAL_PAYLOAD_PLAINTEXT=allow: their older payloads pass through the
    codec. By default they are refused."""
    settings.TEMPORAL_PAYLOAD_KEYS = f"test:{generate_key()}"
    history = WorkflowHistory.from_json(
        "user_onboarding", (HISTORIES / "user_onboarding.json").read_text()
    )

    def replayer() -> Replayer:
        return Replayer(
            workflows=[*project_workflows(), *TASK_WORKFLOWS],
            data_converter=data_converter(),
        )

    refused = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert refused.replay_failure is not None
    settings.TEMPORAL_PAYLOAD_PLAINTEXT = "allow"
    await replayer().replay_workflow(history)
