"""Finish the generated project: drop the files of unused options, write the
git-ignored .env with fresh secrets, and print the next steps.

`main()` reads like a table of options: one line per option that removes
files. Jinja appears only inside a string literal, so this file stays valid
Python that the template's tests import. Standard library only, no network.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path.cwd()


def remove(*paths: str) -> None:
    """Remove files or directories of the project (missing ones are fine)."""
    for relative in paths:
        path = PROJECT_DIR / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def write_env_file() -> None:
    """The project's own script writes .env, so `make install` can redo it."""
    subprocess.run(
        [sys.executable, "scripts/create_env.py"],
        cwd=PROJECT_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def style(text: str, code: str) -> str:
    """ANSI colour, unless NO_COLOR is set or the output is not a terminal."""
    if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
        return text
    return f"\033[{code}m{text}\033[0m"


# The example workflows (user onboarding, batches) and what serves only them;
# the seed's temporal_app layout stays (its workflows.py and activities.py
# render empty, ready for the first workflow).
EXAMPLE_FILES = (
    "temporal_app/admin.py",
    "temporal_app/checks.py",
    "temporal_app/models.py",
    "temporal_app/migrations",
    "temporal_app/progress.py",
    "temporal_app/schedules.py",
    "temporal_app/search_attributes.py",
    "temporal_app/services.py",
    "temporal_app/signals.py",
    "temporal_app/starters.py",
    "temporal_app/tasks.py",
    "temporal_app/templates",
    "temporal_app/urls.py",
    "temporal_app/views.py",
    "temporal_app/visibility.py",
    "temporal_app/management/commands/start_batch.py",
    "temporal_app/management/commands/start_onboarding.py",
    "temporal_app/tests/histories",
    "temporal_app/tests/stand_ins.py",
    "temporal_app/tests/test_activities.py",
    "temporal_app/tests/test_admin.py",
    "temporal_app/tests/test_admin_workflows.py",
    "temporal_app/tests/test_checks.py",
    "temporal_app/tests/test_email.py",
    "temporal_app/tests/test_follow_up_cancellation.py",
    "temporal_app/tests/test_replay.py",
    "temporal_app/tests/test_search_attributes.py",
    "temporal_app/tests/test_starters.py",
    "temporal_app/tests/test_views.py",
    "temporal_app/tests/test_workflows.py",
    "apps/users/services.py",
    "apps/users/tests/test_services.py",
)

# How the summary names the choices.
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TEMPORAL_SERVERS = {
    "dev-server": "Temporal dev server",
    "postgresql": "Temporal server on PostgreSQL",
}
CI_SERVICES = {"github": "GitHub Actions"}


def summary(answers: dict) -> list[str]:
    """What was generated: the options chosen, one short line each."""
    compose = "no"
    if answers["use_docker"]:
        services = [TEMPORAL_SERVERS[answers["temporal_server"]]]
        if answers["use_temporal_ui"]:
            services.append("Temporal UI")
        if answers["use_mailpit"]:
            services.append("Mailpit")
        compose = ", ".join(services)
    rows = [
        ("Python", f"{answers['python_version']} or later"),
        ("database", DATABASES[answers["database"]]),
        ("task queue", answers["task_queue"]),
        ("namespace", answers["temporal_namespace"]),
        ("Docker Compose", compose),
        ("Kubernetes", "deploy/kubernetes" if answers["use_kubernetes"] else "no"),
        ("CI", CI_SERVICES.get(answers["ci"], "none")),
        ("pre-commit", "yes" if answers["use_pre_commit"] else "no"),
        ("Sentry", "yes (set SENTRY_DSN)" if answers["use_sentry"] else "no"),
        ("examples", "onboarding, batches" if answers["example_workflows"] else "no"),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"  {label.ljust(width)}  {value}" for label, value in rows]


def commands(answers: dict) -> list[str]:
    """The next commands for the options chosen, each under what it does."""
    slug = answers["project_slug"]
    docker = answers["use_docker"]

    def command(text: str) -> str:
        return style(f"     {text}", "1")

    lines = [
        "  1. Run Temporal (UI on http://localhost:8080), the worker and Django"
        " (http://localhost:8000):",
        command(f"cd {slug} && make dev"),
    ]
    if answers["database"] == "postgresql":
        lines.insert(
            1,
            f"     (make dev needs a PostgreSQL server with a database named {slug},"
            " or DATABASE_URL in .env)",
        )
    if docker:
        lines += [
            "     or with Docker Compose:",
            command(f"cd {slug} && docker compose up"),
        ]
    lines += [
        f"  2. In another terminal in ./{slug}, create an admin user for"
        " http://localhost:8000/admin/:",
        command("make superuser"),
    ]
    if docker:
        lines += [
            "     or with Docker Compose:",
            command("docker compose run --rm web python manage.py createsuperuser"),
        ]
    lines += ["  3. Run the tests:", command("make test")]
    if answers["use_pre_commit"]:
        lines += [
            "  4. Check every commit with pre-commit:",
            command("git init && .venv/bin/pre-commit install"),
        ]
    return lines


def next_steps(answers: dict) -> str:
    slug = answers["project_slug"]
    lines = [
        style(f"Created {answers['project_name']} in ./{slug}", "1;32"),
        *summary(answers),
        "",
        style("Next steps", "1;36"),
        *commands(answers),
        "",
        f"README.md in ./{slug} tells the rest.",
    ]
    return "\n".join(lines)


def main() -> None:
    # tojson escapes every quote and backslash inside the answers, so any
    # answer renders to a valid string literal here.
    answers = json.loads(r"""{{ cookiecutter|tojson }}""")

    if not answers["use_docker"]:
        remove("Dockerfile", ".dockerignore", "compose.yaml")
    if not answers["use_docker"] or answers["temporal_server"] != "postgresql":
        remove("docker")  # setup scripts of the compose Temporal server
    if not answers["use_kubernetes"]:
        remove("deploy")  # deploy/kubernetes: manifests and kustomization
    if answers["ci"] != "github":
        remove(".github")
    if not answers["use_pre_commit"]:
        remove(".pre-commit-config.yaml")
    if not answers["use_sentry"]:
        remove("config/sentry.py", "temporal_app/tests/test_sentry.py")
    if not answers["example_workflows"]:
        remove(*EXAMPLE_FILES)

    write_env_file()
    # On stderr: `cruft diff > changes.patch` renders the template again and
    # must not find this text in its output. Characters the terminal's
    # encoding lacks (a non-ASCII project name) must not fail the bake.
    sys.stderr.reconfigure(errors="replace")
    print(next_steps(answers), file=sys.stderr)


if __name__ == "__main__":
    main()
