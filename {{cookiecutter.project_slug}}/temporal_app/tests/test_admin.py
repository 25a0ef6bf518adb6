"""The users admin's actions start the example workflows (temporal_app.admin
adds them; the users app itself knows nothing of Temporal)."""

import re

import pytest
from asgiref.sync import sync_to_async as sync
from django.contrib import admin
from django.contrib.auth.models import Permission
from temporalio.client import WorkflowExecutionStatus

from apps.users.admin import UserAdmin
from apps.users.models import User
from temporal_app.admin import WorkflowUserAdmin

pytestmark = pytest.mark.django_db(transaction=True)


def run_action(admin_client, action: str, user) -> str:
    """Run an admin action on `user`; return the page it leads to."""
    response = admin_client.post(
        "/admin/users/user/",
        {"action": action, "_selected_action": [user.pk]},
        follow=True,
    )
    return response.content.decode()


def test_the_users_admin_gains_the_actions_and_keeps_the_rest():
    registered = admin.site._registry[User]

    assert type(registered) is WorkflowUserAdmin
    assert isinstance(registered, UserAdmin)
    assert registered.list_display == [*UserAdmin.list_display, "onboarding"]


@pytest.mark.integration
async def test_start_onboarding_action_starts_the_workflow(
    temporal, admin_client, user
):
    page = await sync(run_action)(admin_client, "start_onboarding", user)

    assert "Onboarding started: 1 user (" in page
    handle = temporal.get_workflow_handle(f"onboarding-{user.pk}")
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate()


@pytest.mark.integration
async def test_start_batch_action_starts_a_batch_of_the_selected_users(
    temporal, admin_client, user
):
    page = await sync(run_action)(admin_client, "start_batch", user)

    [workflow_id] = re.findall(r"Batch (batch-[\w-]+): started\.", page)
    handle = temporal.get_workflow_handle(workflow_id)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate()


def test_an_action_reports_temporal_down_instead_of_failing(
    admin_client, user, monkeypatch, refusing
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", refusing)

    page = run_action(admin_client, "start_onboarding", user)

    assert f"Onboarding: Could not connect to Temporal at {refusing}" in page


@pytest.mark.parametrize(
    ("permissions", "offered"),
    [
        (["view_user"], []),
        (["view_user", "export_users"], ["export_to_csv"]),
        (["change_user"], ["cancel_follow_up", "start_onboarding"]),
        (["view_user", "process_users"], ["start_batch"]),
        (["view_user", "delete_user"], ["delete_selected"]),
    ],
    ids=["view-only", "export", "change", "process", "delete"],
)
def test_staff_are_offered_only_the_actions_their_permissions_allow(
    client, django_user_model, user, permissions, offered
):
    staff = django_user_model.objects.create_user("operator", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="users", codename__in=permissions
        )
    )
    client.force_login(staff)

    form = client.get("/admin/users/user/").context["action_form"]
    choices = [name for name, _ in form.fields["action"].choices] if form else [""]

    assert sorted(choices) == ["", *offered]
    if "export_to_csv" not in offered:  # not offered, and not run when posted
        assert "Exporting" not in run_action(client, "export_to_csv", user)
