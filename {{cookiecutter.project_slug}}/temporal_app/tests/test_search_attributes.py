"""The search attributes of temporal_app/search_attributes.py: every server
the project starts registers them, with the same types; starts set them and
continue-as-new keeps them, so a user's or a batch's runs can be listed; a
server without them refuses a start with an error that says how to register
them."""

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async as sync
from django.conf import settings
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import WorkflowExecution
from temporalio.testing import WorkflowEnvironment

from django_temporal_bridge.client import shared_client
from django_temporal_bridge.search_attributes import SearchAttributeMissing, cli_type
from django_temporal_bridge.testing import installed_binary
from django_temporal_bridge.worker import create_worker
from temporal_app.search_attributes import BATCH_ID, SEARCH_ATTRIBUTES, USER_ID
from temporal_app.starters import batch_input, start_batch_with, start_onboarding


def defined() -> dict[str, str]:
    return {key.name: cli_type(key) for key in SEARCH_ATTRIBUTES}


def test_make_temporal_registers_the_defined_search_attributes():
    """The dev server of `make temporal` (the Compose files are checked by
    the template's own tests)."""
    makefile = (settings.BASE_DIR / "Makefile").read_text()

    registered = dict(re.findall(r"--search-attribute[ =](\w+)=(\w+)", makefile))

    assert registered == defined()


@pytest.mark.integration
async def test_the_test_dev_server_knows_the_defined_search_attributes(temporal):
    listed = await temporal.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=temporal.namespace)
    )

    for key in SEARCH_ATTRIBUTES:
        assert listed.custom_attributes[key.name] == IndexedValueType.ValueType(
            key.indexed_value_type
        )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
async def test_a_users_workflows_are_found_by_user_id(temporal, user):
    start = await sync(start_onboarding)(user)
    handle = temporal.get_workflow_handle(start.workflow_id)

    found: list[str] = []
    async with asyncio.timeout(10):  # the list is eventually consistent
        while not found:
            found = [
                run.id async for run in temporal.list_workflows(f"UserId = {user.pk}")
            ]
            await asyncio.sleep(0.05)

    assert found == [start.workflow_id]
    description = await handle.describe()
    assert description.typed_search_attributes.get(USER_ID) == user.pk
    await handle.terminate()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
async def test_continue_as_new_keeps_the_batch_id(
    temporal, task_queue, django_user_model
):
    """A chunk of one user per run: three runs, each carrying the BatchId."""
    users = [
        await django_user_model.objects.acreate(username=f"batch-user-{i}")
        for i in range(3)
    ]
    input = batch_input(user_ids=[user.pk for user in users])
    input.chunk_size = input.chunks_per_run = 1
    start = await shared_client.acall(lambda client: start_batch_with(client, input))
    async with create_worker(temporal, task_queue=task_queue):
        await temporal.get_workflow_handle(start.workflow_id).result()

    runs: list[WorkflowExecution] = []
    async with asyncio.timeout(10):  # the list is eventually consistent
        while len(runs) < 3:
            query = f"BatchId = '{input.batch_id}'"
            runs = [run async for run in temporal.list_workflows(query)]
            await asyncio.sleep(0.05)
    assert {run.id for run in runs} == {start.workflow_id}
    assert all(
        run.typed_search_attributes.get(BATCH_ID) == input.batch_id for run in runs
    )


@pytest.mark.django_db(transaction=True)
async def test_a_server_without_the_search_attributes_refuses_starts_clearly(
    monkeypatch, user
):
    """A test server of its own, where nothing registered them."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed_binary("temporal-test-server")
    )
    try:
        address = env.client.service_client.config.target_host
        monkeypatch.setenv("TEMPORAL_ADDRESS", address)
        with pytest.raises(SearchAttributeMissing) as raised:
            await sync(start_onboarding)(user)
    finally:
        await env.shutdown()

    message = str(raised.value)
    assert "has no search attribute UserId (Int)" in message
    assert (
        "temporal operator search-attribute create --namespace default "
        "--name UserId --type Int" in message
    )
