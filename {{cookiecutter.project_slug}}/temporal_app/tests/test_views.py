"""The onboarding status page and its JSON: read live from a real Temporal
dev server, and fast when Temporal does not answer."""

import asyncio
import re
import time

import pytest
from asgiref.sync import sync_to_async as sync
from django.db import connection
from django.urls import reverse
from temporalio.service import RPCError

from apps.users.models import User
from django_temporal_bridge.client import shared_client
from django_temporal_bridge.worker import create_worker
from temporal_app.workflows import UserOnboardingWorkflow

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-unusual-passphrase"


@pytest.mark.parametrize("url", ["/onboarding/", "/onboarding/status.json"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize("where", ["black_hole", "refusing"])
def test_with_temporal_down_the_page_says_unavailable_and_renders_fast(
    request, client, user, settings, monkeypatch, where
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", request.getfixturevalue(where))
    settings.TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = 0.4
    client.force_login(user)
    # While it waits for Temporal, the view holds no transaction (and so
    # no database lock).
    in_transaction = []
    call = shared_client.call

    def watched_call(operation):
        in_transaction.append(connection.in_atomic_block)
        return call(operation)

    monkeypatch.setattr(shared_client, "call", watched_call)

    begin = time.monotonic()
    page = client.get("/onboarding/")
    progress = client.get("/onboarding/status.json").json()
    seconds = time.monotonic() - begin

    assert "Your onboarding status is unavailable right now." in page.content.decode()
    assert (progress["state"], progress["finished"]) == ("unavailable", False)
    assert seconds < 2
    assert in_transaction == [False, False]


@pytest.mark.integration
def test_before_the_workflow_starts_the_page_says_it_will_start(
    temporal, client, admin_client, user
):
    client.force_login(user)

    page = client.get("/onboarding/").content.decode()
    progress = client.get("/onboarding/status.json").json()
    staff_page = admin_client.get("/onboarding/").content.decode()

    assert "Your onboarding will start shortly." in page
    assert progress["state"] == "not started"
    # The link into the Temporal Web UI is for the team only.
    assert "in the Temporal Web UI" not in page
    assert "in the Temporal Web UI" in staff_page


async def progress_when(client, done, seconds: float = 10) -> dict:
    """Poll the JSON as the page does, until `done(progress)`."""
    async with asyncio.timeout(seconds):
        while True:
            progress = (await sync(client.get)("/onboarding/status.json")).json()
            if done(progress):
                return progress
            await asyncio.sleep(0.1)


@pytest.mark.integration
async def test_onboarding_starts_when_a_signup_confirms_its_address_and_the_page_follows_it(
    temporal, task_queue, client, settings, mailoutbox
):
    settings.TEMPORAL_START_ONBOARDING_ON_SIGNUP = True
    async with create_worker(temporal, task_queue=task_queue):
        await sync(client.post)(
            reverse("account_signup"),
            {
                "username": "grace",
                "email": "grace@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        user = await User.objects.aget(username="grace")
        handle = temporal.get_workflow_handle(f"onboarding-{user.pk}")
        with pytest.raises(RPCError):  # nothing mails an unconfirmed address
            await handle.describe()
        [confirmation] = mailoutbox
        [confirm_url] = re.findall(r"/accounts/confirm-email/\S+/", confirmation.body)
        response = await sync(client.post)(confirm_url)
        assert response.url == "/onboarding/"

        waiting = await progress_when(
            client, lambda progress: progress["step"] == "waiting to follow up"
        )
        await handle.signal(UserOnboardingWorkflow.cancel_follow_up)
        completed = await progress_when(client, lambda progress: progress["finished"])

    assert waiting["state"] == "running"
    assert waiting["message"] == "Your onboarding is running: waiting to follow up."
    assert [email["subject"] for email in waiting["emails"]] == ["Welcome!"]
    assert completed["state"] == "completed"
    assert completed["message"] == "Your onboarding is complete."
