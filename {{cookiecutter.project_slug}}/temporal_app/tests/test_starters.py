"""Starting workflows from Django code, against a real Temporal dev server:
deterministic ids, repeat starts that change nothing, on_commit starts, and
the admin actions and management commands that use them."""

import contextlib

import pytest
from asgiref.sync import sync_to_async as sync
from django.core.management import call_command
from django.db import transaction
from temporalio.client import WorkflowExecutionStatus

from temporal_app.starters import (
    MAX_BATCH_IDS,
    BatchTooLargeError,
    start_batch,
    start_onboarding,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def temporal(dev_server, settings):
    """Point the project's settings at the dev server (no worker runs, so
    started workflows stay running); yield its client."""
    client = dev_server.client
    settings.TEMPORAL_ADDRESS = client.service_client.config.target_host
    settings.TEMPORAL_NAMESPACE = client.namespace
    return client


async def runs_of(client, workflow_id: str) -> list:
    return [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'")]


async def test_onboarding_starts_once_per_user(temporal, user):
    first = await sync(start_onboarding)(user)
    again = await sync(start_onboarding)(user)

    assert first == again == f"onboarding-{user.pk}"
    description = await temporal.get_workflow_handle(first).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert len(await runs_of(temporal, first)) == 1
    await temporal.get_workflow_handle(first).terminate()


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

    runs = await runs_of(temporal, f"onboarding-{created[0]}")
    assert len(runs) == (1 if commit else 0)
    if commit:
        await temporal.get_workflow_handle(f"onboarding-{created[0]}").terminate()


async def test_no_onboarding_for_users_without_email(
    temporal, settings, django_user_model, django_capture_on_commit_callbacks
):
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = True

    with django_capture_on_commit_callbacks() as callbacks:
        await django_user_model.objects.acreate(username="no-email")

    assert callbacks == []


def test_a_batch_with_too_many_ids_is_refused_before_reaching_temporal(settings):
    settings.TEMPORAL_ADDRESS = "unreachable.invalid:7233"

    with pytest.raises(BatchTooLargeError, match="use a selection instead"):
        start_batch(user_ids=list(range(MAX_BATCH_IDS + 1)))


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
    assert selection.encode() in started.input.payloads[0].data
    await handle.terminate()


async def test_start_onboarding_command(temporal, user, capsys):
    await sync(call_command)(
        "start_onboarding", str(user.pk), "--follow-up-delay", "60"
    )

    assert f"onboarding-{user.pk}" in capsys.readouterr().out
    await temporal.get_workflow_handle(f"onboarding-{user.pk}").terminate()


async def test_admin_actions_start_workflows(temporal, admin_client, user):
    response = await sync(admin_client.post)(
        "/admin/users/user/",
        {"action": "start_onboarding", "_selected_action": [user.pk]},
        follow=True,
    )

    assert "Onboarding started for 1 user (" in response.content.decode()
    handle = temporal.get_workflow_handle(f"onboarding-{user.pk}")
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate()
