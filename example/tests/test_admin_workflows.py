"""What the admin shows of the example workflows: each user's onboarding
in the users list, the cancel-follow-up action and a user's workflows on
their page; on a real dev server, and with Temporal down (the pages still
render, fast, and say so). The Workflows page is the package's."""

import asyncio
import re
import time

import pytest
from asgiref.sync import sync_to_async as sync

from django_temporal_bridge.testing import wait_for_page
from temporal_app.starters import onboarding_workflow_id, start_onboarding
from temporal_app.tests.stand_ins import onboarding_worker

pytestmark = pytest.mark.django_db(transaction=True)

USERS_PAGE = "/admin/users/user/"
# A timeout guard, not a benchmark: the admin's budget is 2 s by default; a
# page that waited for the test settings' patient 10 s would take far longer.
DOWN_PAGE_SECONDS = 4


@pytest.fixture
def patient_admin(settings):
    """Admin pages that wait longer for Temporal than they would in
    production, so that a loaded test machine does not make them say
    "unknown"."""
    settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS = 5


def make_users(django_user_model, *names: str) -> list:
    return [
        django_user_model.objects.create_user(
            username=name, email=f"{name}@example.com"
        )
        for name in names
    ]


def onboarding_cells(page: str) -> dict[str, str]:
    """Each username on the users page, and its Onboarding cell's text."""
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    cells = {}
    for row in rows:
        name = re.search(r'class="field-username"><a [^>]*>([^<]+)</a>', row)
        state = re.search(r'class="field-onboarding">(.*?)</td>', row, re.S)
        if name and state:
            cells[name.group(1)] = re.sub(r"<[^>]+>", "", state.group(1)).strip()
    return cells


async def wait_for_status(client, workflow_id: str, status: str) -> None:
    from temporal_app.workflows import UserOnboardingWorkflow

    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(10):
        while await handle.query(UserOnboardingWorkflow.status) != status:
            await asyncio.sleep(0.05)


@pytest.mark.integration
async def test_the_users_list_shows_each_users_onboarding_linked_to_the_ui(
    temporal, task_queue, admin_client, django_user_model, patient_admin
):
    waiting, done, _ = await sync(make_users)(
        django_user_model, "waiting", "done", "never"
    )
    async with onboarding_worker(temporal, task_queue):
        await sync(start_onboarding)(waiting)
        await sync(start_onboarding)(done, follow_up_delay_seconds=0)
        await temporal.get_workflow_handle(onboarding_workflow_id(done.pk)).result()
        await wait_for_status(
            temporal, onboarding_workflow_id(waiting.pk), "waiting to follow up"
        )

        page = await wait_for_page(
            admin_client,
            USERS_PAGE,
            lambda page: onboarding_cells(page).get("done") == "completed",
        )

    assert onboarding_cells(page) == {
        "waiting": "waiting to follow up",
        "done": "completed",
        "never": "not started",
        "admin": "not started",
    }
    assert (
        f'/workflows/{onboarding_workflow_id(waiting.pk)}">waiting to follow up</a>'
        in page
    )
    await temporal.get_workflow_handle(onboarding_workflow_id(waiting.pk)).terminate()


@pytest.mark.parametrize("temporal_down", ["black_hole", "refusing"])
def test_the_users_list_renders_fast_with_unknown_states_when_temporal_is_down(
    temporal_down, request, monkeypatch, admin_client, django_user_model
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", request.getfixturevalue(temporal_down))
    make_users(django_user_model, "ada")

    started = time.monotonic()
    page = admin_client.get(USERS_PAGE).content.decode()
    seconds = time.monotonic() - started

    assert seconds < DOWN_PAGE_SECONDS
    assert onboarding_cells(page) == {"ada": "unknown", "admin": "unknown"}


def run_cancel_action(admin_client, users) -> str:
    response = admin_client.post(
        USERS_PAGE,
        {"action": "cancel_follow_up", "_selected_action": [user.pk for user in users]},
        follow=True,
    )
    return response.content.decode()


@pytest.mark.integration
async def test_the_cancel_action_reports_each_users_answer(
    temporal, task_queue, admin_client, django_user_model
):
    waiting, never = await sync(make_users)(django_user_model, "waiting", "never")
    async with onboarding_worker(temporal, task_queue):
        start = await sync(start_onboarding)(waiting)
        await wait_for_status(temporal, start.workflow_id, "waiting to follow up")

        page = await sync(run_cancel_action)(admin_client, [waiting, never])
        result = await temporal.get_workflow_handle(start.workflow_id).result()
        again = await sync(run_cancel_action)(admin_client, [waiting])

    assert "Follow-up email: follow-up cancelled: waiting." in page
    assert "Follow-up email: no onboarding: never." in page
    assert result["emails_sent"] == 1
    assert "Follow-up email: no follow-up pending: waiting." in again


def test_the_cancel_action_reports_temporal_down(
    monkeypatch, refusing, admin_client, django_user_model
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)
    [ada] = make_users(django_user_model, "ada")

    page = run_cancel_action(admin_client, [ada])

    assert "Follow-up email: Temporal unavailable: ada." in page


@pytest.mark.integration
async def test_a_users_page_lists_their_workflows(
    temporal, admin_client, django_user_model, patient_admin
):
    [ada] = await sync(make_users)(django_user_model, "ada")
    start = await sync(start_onboarding)(ada)

    page = await wait_for_page(
        admin_client,
        f"/admin/users/user/{ada.pk}/change/",
        lambda page: start.workflow_id in page,
    )

    table = page[page.index('id="user-workflows"') :]
    assert "<td>user_onboarding</td>" in table
    assert "<td>running</td>" in table
    assert f"/workflows/{start.workflow_id}/" in table
    await temporal.get_workflow_handle(start.workflow_id).terminate()


def test_a_users_page_says_when_their_workflows_are_unavailable(
    monkeypatch, black_hole, admin_client, django_user_model, settings
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", black_hole)
    settings.TEMPORAL_ADMIN_TIMEOUT_SECONDS = 0.2  # the users list tests the default
    [ada] = make_users(django_user_model, "ada")

    started = time.monotonic()
    page = admin_client.get(f"/admin/users/user/{ada.pk}/change/").content.decode()

    assert time.monotonic() - started < DOWN_PAGE_SECONDS
    unavailable = f"Could not connect to Temporal at {black_hole} within 0.2 s"
    assert f"Workflows unavailable: {unavailable}" in page
