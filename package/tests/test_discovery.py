"""The worker runs the workflows and activities of every installed app, found
in each app's workflows.py and activities.py, as the admin finds admin.py."""

import pytest

from django_temporal_bridge.discovery import project_activities, project_workflows
from django_temporal_bridge.testing import installed_app
from temporal_app import activities, workflows

# An app of its own, written to disk by the test: a workflow that calls its
# activities, an async one and a plain `def` one that uses the ORM, and an
# activity module that imports temporal_app's too.
REPORTS_APP = {
    "__init__.py": "",
    "workflows.py": """
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from reports.activities import count_users, count_words


@workflow.defn(name="word_count")
class WordCountWorkflow:
    @workflow.run
    async def run(self, text: str) -> list[int]:
        timeout = timedelta(seconds=10)
        words = await workflow.execute_activity(
            count_words, text, start_to_close_timeout=timeout
        )
        users = await workflow.execute_activity(
            count_users, start_to_close_timeout=timeout
        )
        return [words, users]
""",
    "activities.py": """
from django.contrib.auth import get_user_model
from temporalio import activity

from temporal_app.activities import send_email_activity  # noqa: F401


@activity.defn
async def count_words(text: str) -> int:
    return len(text.split())


@activity.defn
def count_users() -> int:
    return get_user_model().objects.count()


def not_an_activity() -> None:
    pass
""",
}


@pytest.fixture
def reports_app(tmp_path):
    """The `reports` app, installed."""
    with installed_app(tmp_path, "reports", REPORTS_APP):
        yield


def test_the_example_workflows_and_activities_are_found():
    found_workflows, found_activities = project_workflows(), project_activities()

    assert {
        workflows.UserOnboardingWorkflow,
        workflows.BatchProcessingWorkflow,
        workflows.ReconcileOnboardingWorkflow,
    } <= set(found_workflows)
    assert {
        activities.send_email_activity,
        activities.process_user_activity,
        activities.start_missing_onboardings_activity,
    } <= set(found_activities)
    # Only activities, not the payload dataclasses beside them.
    assert activities.EmailPayload not in found_activities


def test_another_apps_workflows_are_found_once(reports_app):
    from reports.activities import count_words
    from reports.workflows import WordCountWorkflow

    found_workflows, found_activities = project_workflows(), project_activities()

    assert WordCountWorkflow in found_workflows
    assert count_words in found_activities
    # Imported, not defined, by reports: still registered once only.
    assert found_activities.count(activities.send_email_activity) == 1
    assert len(found_activities) == len(set(found_activities))


@pytest.mark.django_db(transaction=True)
async def test_the_worker_runs_another_apps_workflow_and_plain_def_activities(
    reports_app, time_skipping_env, task_queue, user
):
    from django_temporal_bridge.worker import create_worker

    client = time_skipping_env.client
    async with create_worker(client, task_queue=task_queue):
        counts = await client.execute_workflow(
            "word_count",
            "apps own their workflows",
            id=task_queue,
            task_queue=task_queue,
        )

    assert counts == [4, 1]  # words, and users (from the plain `def` activity)
