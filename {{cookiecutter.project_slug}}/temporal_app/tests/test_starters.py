"""Starting workflows from Django code, against a real Temporal dev server:
deterministic ids, repeat starts that report what they found, on_commit
starts, and the management commands that use them."""

import asyncio
import contextlib

import pytest
from asgiref.sync import sync_to_async as sync
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from apps.users.services import UnknownNameError
from django_temporal_bridge.starting import StartOutcome
from temporal_app.starters import (
    MAX_BATCH_IDS,
    BatchTooLargeError,
    start_batch,
    start_onboarding,
)
from temporal_app.tests.stand_ins import onboarding_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def runs_of(client, workflow_id: str, expected: int) -> list:
    """The runs of a workflow id, once the list (eventually consistent)
    shows at least `expected` of them."""
    query = f"WorkflowId = '{workflow_id}'"
    async with asyncio.timeout(10):
        while True:
            runs = [run async for run in client.list_workflows(query)]
            if len(runs) >= expected:
                return runs
            await asyncio.sleep(0.1)


async def test_onboarding_starts_once_per_user(temporal, user):
    first = await sync(start_onboarding)(user)
    again = await sync(start_onboarding)(user)

    assert first.workflow_id == again.workflow_id == f"onboarding-{user.pk}"
    assert (first.outcome, again.outcome) == (
        StartOutcome.STARTED,
        StartOutcome.RUNNING,
    )
    description = await temporal.get_workflow_handle(first.workflow_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert len(await runs_of(temporal, first.workflow_id, 1)) == 1
    await temporal.get_workflow_handle(first.workflow_id).terminate()


async def test_an_onboarding_that_did_not_complete_is_started_again(temporal, user):
    first = await sync(start_onboarding)(user)
    await temporal.get_workflow_handle(first.workflow_id).terminate()

    again = await sync(start_onboarding)(user)

    assert again.outcome == StartOutcome.RESTARTED
    handle = temporal.get_workflow_handle(again.workflow_id)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert len(await runs_of(temporal, again.workflow_id, 2)) == 2
    await handle.terminate()


async def test_a_completed_onboarding_is_not_run_again(temporal, user, task_queue):
    async with onboarding_worker(temporal, task_queue):
        first = await sync(start_onboarding)(user, follow_up_delay_seconds=0)
        await temporal.get_workflow_handle(first.workflow_id).result()

    again = await sync(start_onboarding)(user)

    assert again.outcome == StartOutcome.COMPLETED
    assert len(await runs_of(temporal, again.workflow_id, 1)) == 1


class RolledBack(Exception):
    pass


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "rollback"])
async def test_a_new_user_starts_onboarding_only_once_committed(
    temporal, settings, django_user_model, commit
):
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = True
    created = []

    def sign_up():
        with transaction.atomic():
            user = django_user_model.objects.create(username="g", email="g@example.com")
            created.append(user.pk)
            if not commit:
                raise RolledBack

    with contextlib.suppress(RolledBack):
        await sync(sign_up)()

    handle = temporal.get_workflow_handle(f"onboarding-{created[0]}")
    if commit:
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate()
    else:
        with pytest.raises(RPCError, match="not found"):
            await handle.describe()


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    ("email", "starts"),
    [
        pytest.param("g@example.com", 1, id="with-email"),
        pytest.param("", 0, id="without-email"),
    ],
)
def test_onboarding_is_started_after_commit_for_users_with_an_email(
    settings, django_user_model, django_capture_on_commit_callbacks, email, starts
):
    """Created on this thread, inside the test's transaction: the on_commit
    callbacks are captured, not run, so no Temporal is needed."""
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = True

    with django_capture_on_commit_callbacks() as callbacks:
        django_user_model.objects.create(username="g", email=email)

    assert len(callbacks) == starts


def test_a_batch_with_too_many_ids_is_refused_before_reaching_temporal(
    settings, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "unreachable.invalid:7233")

    with pytest.raises(BatchTooLargeError, match="use a selection instead"):
        start_batch(user_ids=list(range(MAX_BATCH_IDS + 1)))


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        pytest.param(
            {"user_ids": [1], "action": "explode"},
            "Unknown user action 'explode'; expected one of ['onboard', 'process']",
            id="unknown-action",
        ),
        pytest.param(
            {"selection": "everyone"},
            "Unknown user selection 'everyone'; expected one of ['active', 'all',",
            id="unknown-selection",
        ),
    ],
)
def test_a_batch_with_unknown_names_is_refused_before_reaching_temporal(
    settings, batch, message, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "unreachable.invalid:7233")

    with pytest.raises(UnknownNameError) as raised:
        start_batch(**batch)

    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("arguments", "selection"),
    [
        pytest.param(["--all"], "all", id="all"),
        pytest.param(["--selection", "not_onboarded"], "not_onboarded", id="selection"),
        pytest.param(["1", "2", "3"], "", id="ids"),
    ],
)
async def test_start_batch_command_prints_the_workflow_and_its_url(
    temporal, capsys, arguments, selection
):
    await sync(call_command)("start_batch", *arguments)

    output = capsys.readouterr().out
    workflow_id = output.split()[1].rstrip(":")
    assert workflow_id.startswith("batch-")
    assert f"/namespaces/{temporal.namespace}/workflows/{workflow_id}" in output
    handle = temporal.get_workflow_handle(workflow_id)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    # Decoded as the project's clients do (the input is encrypted when the
    # run has TEMPORAL_PAYLOAD_KEYS).
    [input] = await temporal.data_converter.decode(started.input.payloads)
    assert selection in str(input)
    await handle.terminate()


async def test_start_onboarding_command(temporal, user, capsys):
    await sync(call_command)(
        "start_onboarding", str(user.pk), "--follow-up-delay", "60"
    )

    assert f"Workflow onboarding-{user.pk}: started: http" in capsys.readouterr().out
    await sync(call_command)("start_onboarding", str(user.pk))
    assert f"onboarding-{user.pk}: already running" in capsys.readouterr().out
    await temporal.get_workflow_handle(f"onboarding-{user.pk}").terminate()


async def test_start_onboarding_command_fails_clearly_when_temporal_is_down(
    settings, user, monkeypatch
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens there

    with pytest.raises(
        CommandError, match=r"Could not connect to Temporal at 127\.0\.0\.1:1\b"
    ):
        await sync(call_command)("start_onboarding", str(user.pk))
