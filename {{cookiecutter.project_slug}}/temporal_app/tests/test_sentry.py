"""Errors reported to Sentry: the real sentry-sdk, sending to a local HTTP
server that stands in for Sentry (the DSN's host)."""

import asyncio
import dataclasses
import json
import logging
import uuid
from datetime import timedelta
from smtplib import SMTPRecipientsRefused

import pytest
import sentry_sdk
from asgiref.sync import sync_to_async
from django.core.mail import send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import path
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from config.sentry import init_sentry
from django_temporal_bridge.interceptors import worker_interceptors
from django_temporal_bridge.sentry import (
    WORKFLOW_TASK_LOGGER,
    SentryInterceptor,
    is_final_failure,
    should_report,
)
from django_temporal_bridge.testing import RecordingServer


def failing_view(request):
    raise RuntimeError("the view broke")


urlpatterns = [path("broken/", failing_view)]


@activity.defn
async def always_fails() -> None:
    raise RuntimeError(f"attempt {activity.info().attempt} failed")


@workflow.defn
class ThreeAttempts:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            always_fails,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                maximum_attempts=3,
                initial_interval=timedelta(milliseconds=50),
                backoff_coefficient=1,
            ),
        )


@workflow.defn
class BrokenCode:
    """A bug in workflow code: each of its workflow tasks fails."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in the workflow")


class RecipientRefusedBackend(BaseEmailBackend):
    """A mail server that refuses every recipient, naming them (as SMTP does)."""

    def send_messages(self, email_messages):
        refused = {to: (550, b"No such user") for m in email_messages for to in m.to}
        raise SMTPRecipientsRefused(refused)


@activity.defn
async def send_welcome(to: str) -> None:
    """An email activity as an app writes one: the address in its variables."""
    body = f"Welcome, {to}!"
    await sync_to_async(send_mail)("Welcome", body, None, [to])


@workflow.defn
class OneEmail:
    @workflow.run
    async def run(self, to: str) -> None:
        await workflow.execute_activity(
            send_welcome,
            to,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


def events(server: RecordingServer) -> list[dict]:
    """The events among the envelopes Sentry's SDK sent to the server: each
    envelope is a header line, then an item header and its payload per item."""
    found = []
    for body in server.bodies("/api/1/envelope/"):
        lines = body.split(b"\n")[1:]
        for header, payload in zip(lines[::2], lines[1::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


@pytest.fixture
def sentry(settings):
    """Sentry initialised as the settings do, with a DSN whose host is a local
    server; return the server. Sentry is inactive again afterwards."""
    with RecordingServer() as server:
        settings.SENTRY_DSN = server.url.replace("http://", "http://public@") + "/1"
        assert init_sentry(settings.SENTRY_DSN, "test")
        try:
            yield server
        finally:
            sentry_sdk.get_client().close()
            sentry_sdk.get_global_scope().set_client(None)


def flushed_events(server: RecordingServer) -> list[dict]:
    """The events received once the SDK sent all it holds (flush returns
    when the server has answered)."""
    sentry_sdk.flush(timeout=10)
    return events(server)


@pytest.mark.integration
async def test_an_activity_failing_three_attempts_is_reported_once_with_its_ids(
    sentry, dev_server, task_queue
):
    # The dev server: activities learn their retry policy from it (the
    # time-skipping test server does not tell them).
    client = dev_server.client
    workflow_id = f"three-attempts-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ThreeAttempts],
        activities=[always_fails],
        interceptors=worker_interceptors(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(
                ThreeAttempts.run, id=workflow_id, task_queue=task_queue
            )

    [event] = flushed_events(sentry)  # a second one would fail here
    assert event["exception"]["values"][-1]["value"] == "attempt 3 failed"
    assert event["tags"] == {
        "temporal.workflow_id": workflow_id,
        "temporal.workflow_type": "ThreeAttempts",
        "temporal.activity_id": "1",
        "temporal.activity_type": "always_fails",
        "temporal.attempt": "3",
        "temporal.task_queue": task_queue,
        "temporal.final": "true",
    }
    assert event["environment"] == "test"


class FailedTasks(logging.Handler):
    """Counts the SDK's records of failed workflow tasks."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.getMessage().startswith("Failed activation")


@pytest.mark.integration
async def test_a_failing_workflow_task_is_reported_once_not_on_each_retry(
    sentry, dev_server, task_queue
):
    client = dev_server.client
    failed = FailedTasks()
    logger = logging.getLogger(WORKFLOW_TASK_LOGGER)
    logger.addHandler(failed)
    try:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[BrokenCode],
            interceptors=worker_interceptors(),
            workflow_runner=UnsandboxedWorkflowRunner(),
            # No cache: each retry runs the workflow's code again.
            max_cached_workflows=0,
        ):
            handle = await client.start_workflow(
                BrokenCode.run, id=f"broken-{uuid.uuid4()}", task_queue=task_queue
            )
            async with asyncio.timeout(30):
                while failed.count < 2:
                    await asyncio.sleep(0.05)
            await handle.terminate()
    finally:
        logger.removeHandler(failed)

    [event] = flushed_events(sentry)
    assert event["exception"]["values"][-1]["value"] == "a bug in the workflow"
    assert event["tags"]["temporal.workflow_id"] == handle.id
    assert event["tags"]["temporal.workflow_type"] == "BrokenCode"


@pytest.mark.integration
async def test_a_failed_email_is_reported_without_its_address(
    sentry, dev_server, task_queue, settings
):
    """What the payload codec keeps out of Temporal stays out of Sentry: not
    in the error's message, nor in the failing frames' variables."""
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RecipientRefusedBackend"}}
    client = dev_server.client
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[OneEmail],
        activities=[send_welcome],
        interceptors=worker_interceptors(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(
                OneEmail.run,
                "ada@example.com",
                id=f"email-{uuid.uuid4()}",
                task_queue=task_queue,
            )

    [event] = flushed_events(sentry)
    errors = event["exception"]["values"]
    [refused] = [error for error in errors if error["type"] == "SMTPRecipientsRefused"]
    assert "[email]" in refused["value"]
    assert "ada@example.com" not in json.dumps(event)
    frames = [frame for error in errors for frame in error["stacktrace"]["frames"]]
    assert frames and not any("vars" in frame for frame in frames)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_view_error_is_reported_once(sentry):
    response = Client(raise_request_exception=False).get("/broken/")

    [event] = flushed_events(sentry)
    assert response.status_code == 500
    assert event["exception"]["values"][-1]["value"] == "the view broke"
    assert event["transaction"] == "/broken/"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_without_a_dsn_sentry_is_not_initialised_and_reports_nothing(settings):
    with RecordingServer() as server:
        Client(raise_request_exception=False).get("/broken/")
        sentry_sdk.flush(timeout=1)

        assert settings.SENTRY_DSN == ""
        assert not init_sentry(settings.SENTRY_DSN)
        assert not sentry_sdk.get_client().is_active()
        assert not any(isinstance(i, SentryInterceptor) for i in worker_interceptors())
        assert server.requests == []


def info(attempt: int, maximum_attempts: int | None) -> activity.Info:
    policy = (
        None
        if maximum_attempts is None
        else RetryPolicy(maximum_attempts=maximum_attempts)
    )
    return dataclasses.replace(
        ActivityEnvironment.default_info(), attempt=attempt, retry_policy=policy
    )


@pytest.mark.parametrize(
    ("attempt", "maximum_attempts", "error", "final"),
    [
        (1, 3, RuntimeError(), False),
        (3, 3, RuntimeError(), True),
        (1, 3, ApplicationError("gone", non_retryable=True), True),
        # Unlimited attempts (0, or no policy known): never the last one.
        (50, 0, RuntimeError(), False),
        (50, None, RuntimeError(), False),
    ],
)
def test_only_a_final_failure_is_reported(attempt, maximum_attempts, error, final):
    assert is_final_failure(info(attempt, maximum_attempts), error) is final


@pytest.mark.parametrize(
    ("attempt", "maximum_attempts", "reported"),
    [
        # Unlimited attempts: a growing few, so a stuck activity shows.
        (1, 0, True),
        (2, 0, False),
        (10, 0, True),
        (99, None, False),
        (100, None, True),
        (3000, 0, True),
        (3001, 0, False),
        # Limited: the last attempt only.
        (1, 3, False),
        (3, 3, True),
    ],
)
def test_an_activity_that_retries_forever_is_reported_at_growing_attempts(
    attempt, maximum_attempts, reported
):
    assert should_report(info(attempt, maximum_attempts), RuntimeError()) is reported


def test_an_error_type_the_policy_will_not_retry_is_final():
    policy = RetryPolicy(non_retryable_error_types=["UserGone"])
    first = dataclasses.replace(
        ActivityEnvironment.default_info(), attempt=1, retry_policy=policy
    )

    assert is_final_failure(first, ApplicationError("gone", type="UserGone"))
    assert not is_final_failure(first, ApplicationError("flaky", type="Timeout"))
