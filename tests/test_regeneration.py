"""Regenerating with cruft, for real: the template (as it is in this working
tree) committed to a temporary git repository, projects made from it with
`cruft create` (or baked and then `cruft link`ed) and committed with a
user's own edits, then `cruft update --variables-to-update` turning each
option on or off.

An update must apply with no `.rej` file, keep the user's edits and the
user's .env, and leave exactly the files a fresh bake with the new answers
has: the new option's files added, the disabled option's files deleted.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE_DIR
from test_generation import expected_option_files, output

CRUFT = Path(sys.executable).parent / "cruft"

# A user's own work, committed before every update.
OWN_FILE = "docs/notes.md"
SETTINGS = "config/settings/base.py"
SETTING_BEFORE, SETTING_AFTER = 'LANGUAGE_CODE = "en-us"', 'LANGUAGE_CODE = "de-de"'
README_NOTE = "Our deployment notes live in docs/notes.md."

# (answers the project was created with, the update)
DOCKER_OFF = {"use_docker": False, "use_pre_commit": False, "ci": "none"}
SERVICES_OFF = {
    "database": "postgresql",
    "temporal_server": "postgresql",
    "use_temporal_ui": False,
    "use_mailpit": False,
}
# fmt: off
UPDATES = [
    pytest.param({}, {"use_docker": False}, id="docker-off"),
    pytest.param(DOCKER_OFF, {"use_docker": True}, id="docker-on"),
    pytest.param({}, {"use_temporal_ui": False}, id="temporal-ui-off"),
    pytest.param(SERVICES_OFF, {"use_temporal_ui": True}, id="temporal-ui-on"),
    pytest.param({}, {"use_mailpit": False}, id="mailpit-off"),
    pytest.param(SERVICES_OFF, {"use_mailpit": True}, id="mailpit-on"),
    pytest.param({}, {"use_pre_commit": False}, id="pre-commit-off"),
    pytest.param(DOCKER_OFF, {"use_pre_commit": True}, id="pre-commit-on"),
    pytest.param({}, {"database": "postgresql"}, id="database-postgresql"),
    pytest.param(SERVICES_OFF, {"database": "sqlite"}, id="database-sqlite"),
    pytest.param({}, {"ci": "none"}, id="ci-none"),
    pytest.param(DOCKER_OFF, {"ci": "github"}, id="ci-github"),
    pytest.param({}, {"temporal_server": "postgresql"}, id="temporal-server-postgresql"),
    pytest.param(SERVICES_OFF, {"temporal_server": "dev-server"}, id="temporal-server-dev-server"),
]
# fmt: on


@pytest.fixture(scope="module")
def git_env(tmp_path_factory) -> dict[str, str]:
    """Commits need an identity; the machine's git configuration stays out."""
    empty = tmp_path_factory.mktemp("git") / "config"
    empty.write_text("")
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "GIT_CONFIG_GLOBAL": str(empty),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def run(args: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{args}:\n{output(result)}"
    return result


def commit_all(project: Path, env: dict, message: str) -> None:
    run(["git", "add", "--all"], project, env)
    run(["git", "commit", "--quiet", "--message", message], project, env)


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory, git_env) -> Path:
    """This working tree's template (uncommitted changes included) as the one
    commit of a new repository: cruft clones templates with git."""
    repo = tmp_path_factory.mktemp("template")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = TEMPLATE_DIR / name
        if source.is_file():  # listed but deleted in the working tree: skip
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    run(["git", "init", "--quiet"], repo, git_env)
    commit_all(repo, git_env, "template")
    return repo


def make_user_edits(project: Path) -> None:
    (project / OWN_FILE).parent.mkdir(exist_ok=True)
    (project / OWN_FILE).write_text("# Notes\n\nDeploys happen on Tuesdays.\n")
    settings = project / SETTINGS
    text = settings.read_text()
    assert SETTING_BEFORE in text
    settings.write_text(text.replace(SETTING_BEFORE, SETTING_AFTER))
    readme = project / "README.md"
    title, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"{title}\n\n{README_NOTE}\n{rest}")


@pytest.fixture(scope="module")
def edited_project(tmp_path_factory, template_repo, git_env):
    """edited_project(answers) -> a fresh copy of a cruft-created project with
    those answers, committed in its own repository with the user's edits."""
    originals: dict[str, Path] = {}

    def edited_project(answers: dict) -> Path:
        key = json.dumps(answers, sort_keys=True)
        if key not in originals:
            parent = tmp_path_factory.mktemp("created")
            run(
                [CRUFT, "create", "--no-input", "--output-dir", parent,
                 "--extra-context", json.dumps(answers), template_repo],
                parent, git_env,
            )  # fmt: skip
            project = parent / "my_project"
            run(["git", "init", "--quiet"], project, git_env)
            commit_all(project, git_env, "Generated with cruft")
            make_user_edits(project)
            commit_all(project, git_env, "Our own changes")
            originals[key] = project
        copy = tmp_path_factory.mktemp("project") / "my_project"
        shutil.copytree(originals[key], copy, symlinks=True)
        return copy

    return edited_project


@pytest.fixture(scope="module")
def fresh_project(tmp_path_factory, template_repo, git_env):
    """fresh_project(answers) -> a new project from the same template commit
    (not from this working tree, which may have changed since)."""

    def fresh_project(answers: dict) -> Path:
        parent = tmp_path_factory.mktemp("fresh")
        run(
            [CRUFT, "create", "--no-input", "--output-dir", parent,
             "--extra-context", json.dumps(answers), template_repo],
            parent, git_env,
        )  # fmt: skip
        return parent / answers["project_slug"]

    return fresh_project


def cruft_answers(project: Path) -> dict:
    """The answers .cruft.json records (without cookiecutter's private keys)."""
    context = json.loads((project / ".cruft.json").read_text())["context"]
    return {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}


def tree(project: Path) -> dict[str, bytes]:
    """Every file of a project outside .git, by relative path."""
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def test_an_untouched_project_has_no_diff(tmp_path, template_repo, git_env):
    """Nothing random in tracked files: the render cruft compares with is
    the project itself (the .env it writes with fresh secrets is skipped)."""
    run(
        [CRUFT, "create", "--no-input", "--output-dir", tmp_path, template_repo],
        tmp_path, git_env,
    )  # fmt: skip
    project = tmp_path / "my_project"

    diff = run([CRUFT, "diff", "--exit-code"], project, git_env)
    check = run([CRUFT, "check"], project, git_env)

    assert "diff --git" not in diff.stdout
    assert "up to date" in check.stdout


@pytest.mark.parametrize(("created_with", "update"), UPDATES)
def test_update_applies_an_option_change_and_keeps_user_edits(
    edited_project, fresh_project, git_env, created_with, update
):
    project = edited_project(created_with)
    env_before = (project / ".env").read_text()

    result = run(
        [CRUFT, "update", "--skip-apply-ask",
         "--variables-to-update", json.dumps(update)],
        project, git_env,
    )  # fmt: skip

    answers = cruft_answers(project)
    assert answers == {**answers, **update}
    assert list(project.rglob("*.rej")) == [], result.stdout
    # The user's work is all there.
    assert (project / ".env").read_text() == env_before
    assert (project / OWN_FILE).exists()
    assert SETTING_AFTER in (project / SETTINGS).read_text()
    assert README_NOTE in (project / "README.md").read_text()
    # And the rest is exactly what a fresh bake with the new answers has.
    present = {
        path: (project / path).exists() for path in expected_option_files(answers)
    }
    assert present == expected_option_files(answers)
    fresh = tree(fresh_project(answers))
    updated = tree(project)
    for ours in (".env", ".cruft.json", OWN_FILE):
        fresh.pop(ours, None)
        updated.pop(ours, None)
    assert sorted(updated) == sorted(fresh)
    changed = [path for path in fresh if updated[path] != fresh[path]]
    assert changed == sorted([SETTINGS, "README.md"])


def test_a_baked_project_can_be_linked_then_updated(tmp_path, template_repo, git_env):
    """A project made with plain cookiecutter joins cruft with `cruft link`
    and the answers it was made with."""
    answers = {"use_mailpit": False, "ci": "none"}
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(f"replay_dir: {tmp_path / 'replay'}\n")
    run(
        [Path(sys.executable).parent / "cookiecutter", "--no-input",
         "--config-file", config, "--output-dir", tmp_path, template_repo,
         *(f"{key}={value}" for key, value in answers.items())],
        tmp_path, git_env,
    )  # fmt: skip
    project = tmp_path / "my_project"
    run(["git", "init", "--quiet"], project, git_env)
    commit_all(project, git_env, "Generated with cookiecutter")

    run(
        [CRUFT, "link", "--no-input", "--extra-context", json.dumps(answers),
         template_repo],
        project, git_env,
    )  # fmt: skip
    commit_all(project, git_env, "Linked with cruft")
    diff = run([CRUFT, "diff", "--exit-code"], project, git_env)
    run(
        [CRUFT, "update", "--skip-apply-ask",
         "--variables-to-update", '{"use_mailpit": true}'],
        project, git_env,
    )  # fmt: skip

    assert "diff --git" not in diff.stdout
    assert "mailpit:" in (project / "compose.yaml").read_text()
    assert list(project.rglob("*.rej")) == []
