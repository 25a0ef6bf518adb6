"""The admin's Workflows page: the recent runs of the project's task queue,
page by page, on a real dev server; with Temporal down it still renders,
fast, and says so; only staff who may view "workflows" see it. And the
states of given workflows, which the example's admin column shows."""

import asyncio
import re
import time

import pytest
from asgiref.sync import sync_to_async as sync
from django.contrib.auth.models import Permission

from django_temporal_bridge.admin import WorkflowRunListAdmin
from django_temporal_bridge.testing import wait_for_page
from django_temporal_bridge.visibility import aworkflow_states, workflow_states

pytestmark = pytest.mark.django_db(transaction=True)

WORKFLOWS_PAGE = "/admin/django_temporal_bridge/workflowrunlist/"
# A timeout guard, not a benchmark: a page that waited for Temporal's own
# timeouts (10 s in the test settings) would take far longer.
DOWN_PAGE_SECONDS = 2


@pytest.mark.integration
async def test_the_workflows_page_lists_the_task_queues_runs_page_by_page(
    temporal, task_queue, admin_client, monkeypatch, settings
):
    settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS = 5  # a loaded machine is slow
    monkeypatch.setattr(WorkflowRunListAdmin, "page_size", 2)
    # No worker polls the test's queue: the runs stay running.
    ids = {f"{task_queue}-{n}" for n in range(3)}
    for workflow_id in ids:
        await temporal.start_workflow("report", id=workflow_id, task_queue=task_queue)

    first = await wait_for_page(
        admin_client, WORKFLOWS_PAGE, lambda page: "Next page" in page
    )
    next_link = re.search(r'href="(\?page=[^"]+)"', first).group(1)
    second = (
        await sync(admin_client.get)(WORKFLOWS_PAGE + next_link.replace("&amp;", "&"))
    ).content.decode()

    def listed(page: str) -> set[str]:
        return set(re.findall(r"/workflows/([^/]+)/[^/]+/history", page))

    assert len(listed(first)) == 2
    assert listed(first) | listed(second) == ids
    assert "report" in first and "running" in first
    assert "Newest" in second
    for workflow_id in ids:
        await temporal.get_workflow_handle(workflow_id).terminate()


@pytest.mark.integration
def test_a_page_token_that_temporal_does_not_take_leads_back_to_the_newest(
    temporal, admin_client, settings
):
    """The dev server answers a made-up token with an error that the client
    retries until the page's deadline."""
    settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS = 0.2

    response = admin_client.get(WORKFLOWS_PAGE + "?page=bm90LWEtdG9rZW4=")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Temporal is unavailable" in page
    assert '<a href="?">Newest</a>' in page


def test_the_workflows_page_says_when_temporal_is_unavailable(
    monkeypatch, black_hole, admin_client, settings
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS = 0.2

    started = time.monotonic()
    page = admin_client.get(WORKFLOWS_PAGE).content.decode()

    assert time.monotonic() - started < DOWN_PAGE_SECONDS
    unavailable = f"Could not connect to Temporal at {black_hole} within 0.2 s"
    assert f"Temporal is unavailable: {unavailable}" in page


def test_the_workflows_page_is_in_the_admin_index_for_those_who_may_view_it(
    client, django_user_model
):
    staff = django_user_model.objects.create_user(
        username="staff", password="pw", is_staff=True
    )
    client.force_login(staff)
    assert "Workflows" not in client.get("/admin/").content.decode()
    assert client.get(WORKFLOWS_PAGE).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_workflowrunlist"))

    assert WORKFLOWS_PAGE in client.get("/admin/").content.decode()


def test_the_workflows_page_is_for_staff_only(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="visitor"))

    response = client.get(WORKFLOWS_PAGE)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


@pytest.mark.integration
async def test_workflow_states_read_the_latest_run_of_each_id(temporal, task_queue):
    running = f"{task_queue}-running"
    await temporal.start_workflow("report", id=running, task_queue=task_queue)
    never = f"{task_queue}-never-started"

    async with asyncio.timeout(10):  # the list follows the start with a delay
        while not (states := await aworkflow_states([running, never], timeout=5))[
            running
        ].status:
            await asyncio.sleep(0.1)

    assert str(states[running]) == "running"  # no worker answers a query
    assert str(states[never]) == "not started"
    await temporal.get_workflow_handle(running).terminate()


def test_workflow_states_are_unknown_when_temporal_is_down(
    monkeypatch, black_hole, settings
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS = 0.2

    states = workflow_states(["report-1"])

    assert str(states["report-1"]) == "unknown"
    assert states["report-1"].known is False
