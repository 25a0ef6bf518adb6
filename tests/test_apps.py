"""A baked project grows by app: an app of its own with a workflow and a
background task runs on the project's worker command with no edit to
temporal_app, with the examples or without them, and no app imports an
app that depends on it."""

import ast
import shutil
from pathlib import Path

import pytest
from conftest import output, run_pytest_in

# A new app, as docs/guides/new-workflow.md has one added: its workflow calls
# its activity, which reads the database through the ORM, and its `@task`
# counts users; its test runs both on the real `manage.py run_temporal_worker`
# against a dev server.
GREETINGS_APP = {
    "__init__.py": "",
    "apps.py": """
from django.apps import AppConfig


class GreetingsConfig(AppConfig):
    name = "apps.greetings"
""",
    "workflows.py": """
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from apps.greetings.activities import greet


@workflow.defn(name="greeting")
class GreetingWorkflow:
    @workflow.run
    async def run(self, username: str) -> str:
        return await workflow.execute_activity(
            greet, username, start_to_close_timeout=timedelta(seconds=10)
        )
""",
    "activities.py": """
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from temporalio import activity


@activity.defn
async def greet(username: str) -> str:
    user = await sync_to_async(get_user_model().objects.get)(username=username)
    return f"Hello, {user.first_name}!"
""",
    "tasks.py": """
from django.contrib.auth import get_user_model
from django.tasks import task


@task
def count_users() -> int:
    return get_user_model().objects.count()
""",
    "tests/__init__.py": "",
    "tests/test_greetings.py": """
import asyncio
from datetime import timedelta

import pytest

from apps.greetings.tasks import count_users
from django_temporal_bridge.testing import Worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_the_worker_command_runs_the_greeting_and_the_task(
    temporal, task_queue, user, tmp_path
):
    with Worker(
        tmp_path,
        address=temporal.service_client.config.target_host,
        namespace=temporal.namespace,
        task_queue=task_queue,
    ):
        greeting = await temporal.execute_workflow(
            "greeting",
            user.username,
            id=task_queue,
            task_queue=task_queue,
            # Fail, rather than wait, if the worker does not know the workflow.
            execution_timeout=timedelta(seconds=30),
        )
        enqueued = await count_users.aenqueue()
        async with asyncio.timeout(30):
            await temporal.get_workflow_handle(enqueued.id).result()

    assert greeting == "Hello, Ada!"
    assert (await count_users.aget_result(enqueued.id)).return_value == 1
""",
}


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({}, id="with-examples"),
        pytest.param({"example_workflows": False}, id="without-examples"),
    ],
)
def test_a_new_apps_workflow_and_task_run_on_the_worker_command(
    bake, generated_venv, tmp_path, answers
):
    project = tmp_path / "project"
    shutil.copytree(bake(answers), project)
    for name, source in GREETINGS_APP.items():
        path = project / "apps" / "greetings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source.lstrip())
    settings = project / "config" / "settings" / "base.py"
    installed = settings.read_text().replace(
        '    "temporal_app",\n', '    "temporal_app",\n    "apps.greetings",\n'
    )
    assert "apps.greetings" in installed
    settings.write_text(installed)

    result = run_pytest_in(project, generated_venv, "apps/greetings")

    assert result.returncode == 0, output(result)
    assert "1 passed" in result.stdout


def app_of(module: str, apps: list[str]) -> str | None:
    """The app (a dotted package name) that `module` belongs to, if any."""
    return next((app for app in apps if f"{module}.".startswith(f"{app}.")), None)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_apps_depend_one_way(bake):
    """temporal_app's example workflows use the users app; the users app
    never imports temporal_app (a cycle would make every app that grows a
    workflow depend on all the others)."""
    project = bake({})
    apps = ["apps.users", "temporal_app"]
    depends_on = {app: set() for app in apps}
    for app in apps:
        for path in (project / app.replace(".", "/")).rglob("*.py"):
            for module in imported_modules(path):
                other = app_of(module, apps)
                if other not in (None, app):
                    depends_on[app].add(other)

    assert depends_on == {"apps.users": set(), "temporal_app": {"apps.users"}}


# The project's own top-level packages: the integration package imports none.
PROJECT_PACKAGES = ["config", "apps", "temporal_app"]
PACKAGE = "django_temporal_bridge"


def test_the_integration_package_imports_nothing_of_the_project(bake):
    """The project configures the package (settings, urls, conftest), never
    the reverse, so the package can be upgraded or published on its own."""
    package = bake({}) / PACKAGE
    imports = {
        (str(path.relative_to(package)), module)
        for path in package.rglob("*.py")
        for module in imported_modules(path)
        if app_of(module, PROJECT_PACKAGES)
    }

    assert imports == set()


def test_the_integration_package_is_copied_as_it_is(bake):
    """No answer changes a byte of the package: it is the same in every
    project, so an update replaces it without a merge."""
    source = Path(__file__).parent.parent / "{{cookiecutter.project_slug}}" / PACKAGE
    baked = bake({"database": "postgresql", "project_name": "Other"}) / PACKAGE
    files = sorted(
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )

    assert files
    assert [
        f for f in files if (source / f).read_bytes() != (baked / f).read_bytes()
    ] == []
