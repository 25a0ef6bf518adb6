"""Regenerating with cruft and with Copier, for real: the template (as it is
in this working tree) committed to a temporary git repository, projects made
from it with `cruft create` (or baked and then `cruft link`ed) or `copier
copy` and committed with a user's own edits, then `cruft update
--variables-to-update` or `copier update --data` turning each option on or
off.

An update must apply with no `.rej` file and no conflict marker, keep the
user's edits and the user's .env, and leave exactly the files a fresh bake
with the new answers has: the new option's files added, the disabled
option's files deleted.

Copier reads copier.yml, which must ask cookiecutter.json's questions and
write the files a cookiecutter bake writes, for every value of every answer.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE_DIR
from slugify import slugify as python_slugify
from test_generation import (
    SUPPORTED_COMBINATIONS,
    _fixture_id,
    default_answers,
    expected_option_files,
    output,
)

import local_extensions

CRUFT = Path(sys.executable).parent / "cruft"
# Runs copier command lines, many in one process.
COPIER_BATCH = Path(__file__).with_name("copier_batch.py")

# A user's own work, committed before every update.
OWN_FILE = "docs/notes.md"
SETTINGS = "config/settings/base.py"
SETTING_BEFORE, SETTING_AFTER = 'LANGUAGE_CODE = "en-us"', 'LANGUAGE_CODE = "de-de"'
README_NOTE = "Our deployment notes live in docs/notes.md."

# (answers the project was created with, the update)
DOCKER_OFF = {
    "use_docker": False,
    "use_pre_commit": False,
    "ci": "none",
    "example_workflows": False,
}
SERVICES_OFF = {
    "database": "postgresql",
    "temporal_server": "postgresql",
    "use_temporal_ui": False,
    "use_mailpit": False,
    "use_sentry": True,
    "use_kubernetes": True,
}
# Every option turned on and off, in four updates, for cruft and for Copier
# alike: an update renders the project twice and merges, which takes seconds.
# fmt: off
UPDATES = [
    pytest.param({}, {"use_temporal_ui": False, "use_mailpit": False, "use_pre_commit": False, "ci": "none", "database": "postgresql", "temporal_server": "postgresql", "use_sentry": True, "use_kubernetes": True}, id="services-pre-commit-ci-off-postgresql-sentry-kubernetes-on"),
    pytest.param(SERVICES_OFF, {"use_temporal_ui": True, "use_mailpit": True, "database": "sqlite", "temporal_server": "dev-server", "use_sentry": False, "use_kubernetes": False}, id="services-on-sqlite-dev-server-on-sentry-kubernetes-off"),
    pytest.param({}, {"use_docker": False, "example_workflows": False}, id="docker-examples-off"),
    pytest.param(DOCKER_OFF, {"use_docker": True, "use_pre_commit": True, "ci": "github", "example_workflows": True}, id="docker-pre-commit-ci-examples-on"),
]
# fmt: on


def test_the_updates_turn_every_option_on_and_off():
    options = [
        name for name, value in default_answers().items() if isinstance(value, bool)
    ] + ["database", "temporal_server", "ci"]
    turned = {change for case in UPDATES for change in case.values[1].items()}

    for name in options:
        assert len({value for key, value in turned if key == name}) == 2, name


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """Where the projects and the tools' temporary files go: in memory
    (/dev/shm) where the machine has it. cruft and Copier clone and render
    the template into temporary directories on every command, and git
    writes many small files: on this machine's disk, Copier's updates took
    twice as long."""
    memory = Path("/dev/shm")
    if not os.access(memory, os.W_OK):
        yield tmp_path_factory.mktemp("scratch")
        return
    path = Path(tempfile.mkdtemp(prefix="template-tests-", dir=memory))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def new_dir(scratch: Path, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch))


@pytest.fixture(scope="module")
def git_env(tmp_path_factory, scratch) -> dict[str, str]:
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
        "TMPDIR": str(new_dir(scratch, "tmp")),
    }


def answers_key(answers: dict) -> str:
    """The same text for the same answers, in any order: a cache key."""
    return json.dumps(answers, sort_keys=True)


def run(args: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600,  # a hung command fails instead of hanging
    )  # fmt: skip
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


def commit_with_user_edits(project: Path, env: dict, tool: str) -> None:
    """The project in a repository of its own: as generated, then edited."""
    run(["git", "init", "--quiet"], project, env)
    commit_all(project, env, f"Generated with {tool}")
    make_user_edits(project)
    commit_all(project, env, "Our own changes")


@pytest.fixture(scope="module")
def edited_project(scratch, template_repo, git_env):
    """edited_project(answers) -> a fresh copy of a cruft-created project with
    those answers, committed in its own repository with the user's edits."""
    originals: dict[str, Path] = {}

    def edited_project(answers: dict) -> Path:
        key = answers_key(answers)
        if key not in originals:
            parent = new_dir(scratch, "created")
            run(
                [CRUFT, "create", "--no-input", "--output-dir", parent,
                 "--extra-context", json.dumps(answers), template_repo],
                parent, git_env,
            )  # fmt: skip
            project = parent / "my_project"
            commit_with_user_edits(project, git_env, "cruft")
            originals[key] = project
        copy = new_dir(scratch, "project") / "my_project"
        shutil.copytree(originals[key], copy, symlinks=True)
        return copy

    return edited_project


@pytest.fixture(scope="module")
def fresh_project(cookies_session, template_repo):
    """fresh_project(answers) -> a project baked by cookiecutter from the same
    template commit (not from this working tree, which may have changed
    since), once per answers: what an update to those answers must match."""
    baked: dict[str, Path] = {}

    def fresh_project(answers: dict) -> Path:
        key = answers_key(answers)
        if key not in baked:
            result = cookies_session.bake(
                extra_context=answers, template=str(template_repo)
            )
            assert result.exit_code == 0, result.exception
            baked[key] = result.project_path
        return baked[key]

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


# Git's conflict markers, as `git merge-file` (Copier) leaves them.
CONFLICT_MARKER = re.compile(rb"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)


def check_merged(project: Path) -> dict[str, bytes]:
    """An update that merged cleanly: no rejects, no conflict markers, the
    user's edits all there. Returns the project's files (`tree`)."""
    assert list(project.rglob("*.rej")) == []
    updated = tree(project)
    conflicted = [
        path for path, text in updated.items() if CONFLICT_MARKER.search(text)
    ]
    assert conflicted == []
    assert (project / OWN_FILE).exists()
    assert SETTING_AFTER in (project / SETTINGS).read_text()
    assert README_NOTE in (project / "README.md").read_text()
    return updated


def check_update(
    project: Path,
    answers: dict,
    env_before: str,
    fresh: dict[str, bytes],
    answers_file: str,
) -> None:
    """What an update to `answers` must leave: no rejects or conflicts, the
    user's work all there, and the rest exactly what a fresh bake with those
    answers (`fresh`) has."""
    updated = check_merged(project)
    present = {
        path: (project / path).exists() for path in expected_option_files(answers)
    }
    assert present == expected_option_files(answers)
    assert (project / ".env").read_text() == env_before
    for ours in (".env", answers_file, OWN_FILE):
        fresh.pop(ours, None)
        updated.pop(ours, None)
    assert sorted(updated) == sorted(fresh)
    changed = [path for path in fresh if updated[path] != fresh[path]]
    assert changed == sorted([SETTINGS, "README.md"])


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
    assert answers == {**answers, **update}, result.stdout
    fresh = tree(fresh_project(answers))
    check_update(project, answers, env_before, fresh, ".cruft.json")


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


# --- Copier ---------------------------------------------------------------------

COPIER_ANSWERS = ".copier-answers.yml"


@pytest.fixture(scope="module")
def copier(tmp_path_factory, git_env):
    """copier((cwd, args), ...) -> [(exit code, output), ...]: copier command
    lines (what follows `copier`), run one after another in one process."""

    def copier(*commands: tuple[Path, list]) -> list[tuple[int, str]]:
        listing = tmp_path_factory.mktemp("copier") / "commands.json"
        listing.write_text(
            json.dumps([{"cwd": str(cwd), "args": list(map(str, args))}
                        for cwd, args in commands])
        )  # fmt: skip
        batch = run([sys.executable, COPIER_BATCH, listing], listing.parent, git_env)
        return [
            (done["exit_code"], done["output"]) for done in json.loads(batch.stdout)
        ]

    return copier


def copier_data(answers: dict) -> list[str]:
    """Answers as `--data` options: use_docker=false, database=postgresql."""
    spelled = {
        name: json.dumps(value) if isinstance(value, bool) else value
        for name, value in answers.items()
    }
    return [option for item in spelled.items() for option in ("--data", "=".join(item))]


def copier_copy(template: Path, answers: dict, destination: Path) -> list:
    """The command line that makes a project, as the docs give it."""
    return ["copy", "--trust", "--defaults", *copier_data(answers), template, destination]  # fmt: skip


def copier_answers(project: Path) -> dict:
    """The answers .copier-answers.yml records (without Copier's own keys)."""
    recorded = yaml.safe_load((project / COPIER_ANSWERS).read_text())
    return {k: v for k, v in recorded.items() if not k.startswith("_")}


def as_copier_question(name: str, value, prompt) -> dict:
    """A cookiecutter.json variable as copier.yml must ask it."""
    question = {
        "type": "bool" if isinstance(value, bool) else "str",
        "help": prompt,
        "default": value,
    }
    if isinstance(value, list):  # a choice: the first value is the default
        choices = [(prompt[choice], choice) for choice in value]
        question.update(help=prompt["__prompt__"], choices=choices, default=value[0])
    elif isinstance(value, str):  # Jinja names the other answers directly
        question["default"] = value.replace("cookiecutter.", "")
    if name in local_extensions.pre_gen_hook().CHECKS:
        question["validator"] = f"{{{{ {name}|answer_problem('{name}') }}}}"
    if name in local_extensions.pre_gen_hook().COMBINATION_CHECKS:
        question["validator"] = f"{{{{ {name}|combination_problem('{name}') }}}}"
    return question


def test_copier_asks_the_questions_of_cookiecutter_json():
    """The same names in the same order, defaults, choices, prompts; and the
    pre-generation hook's check on every answer that it checks."""
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    copier_yml = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text())
    expected = {
        name: as_copier_question(name, value, context["__prompts__"][name])
        for name, value in context.items()
        if not name.startswith("_")
    }

    # Its questions: neither settings (_name) nor computed values.
    asked = {
        name: question
        for name, question in copier_yml.items()
        if not name.startswith("_") and question.get("when") is not False
    }
    for question in asked.values():
        if "choices" in question:  # {label: value} in order, as pairs
            question["choices"] = list(question["choices"].items())

    assert list(asked) == list(expected)
    assert asked == expected


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Project", "my_project"),
        ("Crème Brûlée Shop!", "creme_brulee_shop"),
        ("Bob's Shop", "bob_s_shop"),
        ("Über-Tool 2.0", "uber_tool_2_0"),
        ("1,000 Widgets", "1000_widgets"),
        ("  spaced   out  ", "spaced_out"),
    ],
)
def test_copier_derives_the_slug_cookiecutter_derives(name, slug):
    """Copier lacks `slugify`: local_extensions' stand-in for python-slugify,
    which cookiecutter's filter calls, gives the same slugs."""
    assert local_extensions.slugify(name, separator="_") == slug
    assert python_slugify(name, separator="_") == slug


def covering(combinations: list[dict]) -> list[dict]:
    """Those of `combinations` that give some answer a value that none before
    gave it (defaults filled in): together, each value that any of them gives."""
    seen, chosen = set(), []
    for answers in combinations:
        values = {(k, str(v)) for k, v in {**default_answers(), **answers}.items()}
        if values - seen:
            chosen.append(answers)
            seen |= values
    return chosen


# Copier renders each file of each copy anew (2 s a copy): the supported
# combinations that give every answer each of its values (11 of 17).
COPIED = covering(SUPPORTED_COMBINATIONS)


def test_copier_copy_writes_the_files_cookiecutter_bakes(
    copier, fresh_project, template_repo, scratch, subtests
):
    """For COPIED, byte for byte; only the answers file (.copier-answers.yml,
    where cookiecutter writes none) and .env's fresh secrets differ."""
    parent = new_dir(scratch, "copies")
    projects = [parent / str(i) for i in range(len(COPIED))]

    results = copier(
        *[(parent, copier_copy(template_repo, answers, project))
          for answers, project in zip(COPIED, projects, strict=True)]
    )  # fmt: skip

    for answers, project, (exit_code, printed) in zip(
        COPIED, projects, results, strict=True
    ):
        with subtests.test(msg=_fixture_id(answers)):
            assert exit_code == 0, printed
            recorded = copier_answers(project)
            assert recorded == {**recorded, **answers}
            assert "cookiecutter" not in recorded  # computed, never saved
            assert (project / ".env").stat().st_mode & 0o777 == 0o600
            copied, baked = tree(project), tree(fresh_project(answers))
            for ours in (".env", COPIER_ANSWERS):
                copied.pop(ours)
                baked.pop(ours, None)
            assert sorted(copied) == sorted(baked)
            assert [path for path in baked if copied[path] != baked[path]] == []


# (answers, the question Copier names, the pre-generation hook's message)
BAD_ANSWERS = [
    pytest.param({"project_slug": "class"}, "project_slug", "project_slug 'class' is a Python keyword", id="keyword-slug"),
    pytest.param({"project_name": "!!!"}, "project_slug", "project_slug is empty", id="name-without-letters"),
    pytest.param({"task_queue": "my tasks"}, "task_queue", "task_queue 'my tasks' is not a valid", id="queue-with-a-space"),
    pytest.param({"use_kubernetes": True, "database": "postgresql", "use_docker": False}, "use_kubernetes", "use_kubernetes needs use_docker", id="kubernetes-without-docker"),
]  # fmt: skip


def test_copier_refuses_bad_answers_with_the_hooks_messages(
    copier, template_repo, tmp_path, subtests
):
    results = copier(
        *[(tmp_path, copier_copy(template_repo, bad.values[0], tmp_path / bad.id))
          for bad in BAD_ANSWERS]
    )  # fmt: skip

    for bad, (exit_code, printed) in zip(BAD_ANSWERS, results, strict=True):
        _, question, message = bad.values
        with subtests.test(msg=bad.id):
            assert exit_code != 0
            assert f"Validation error for question '{question}': {message}" in printed
            assert not (tmp_path / bad.id).exists()


def test_copier_update_applies_each_option_change_and_keeps_user_edits(
    copier, fresh_project, template_repo, git_env, scratch, subtests
):
    """UPDATES with `copier update --trust --defaults --data ...`, each
    on an edited, committed project made with `copier copy`. All in two
    processes: Copier takes a second to start."""
    parent = new_dir(scratch, "updates")
    created = {answers_key(case.values[0]): case.values[0] for case in UPDATES}
    originals = {key: parent / f"created-{i}" for i, key in enumerate(created)}
    copies = copier(
        *[(parent, copier_copy(template_repo, answers, originals[key]))
          for key, answers in created.items()]
    )  # fmt: skip
    assert [exit_code for exit_code, _ in copies] == [0] * len(copies), copies
    for project in originals.values():
        commit_with_user_edits(project, git_env, "Copier")
    projects = {case.id: parent / case.id for case in UPDATES}
    for case in UPDATES:
        original = originals[answers_key(case.values[0])]
        shutil.copytree(original, projects[case.id], symlinks=True)

    results = copier(
        *[(projects[case.id], ["update", "--trust", "--defaults", *copier_data(case.values[1])])
          for case in UPDATES]
    )  # fmt: skip

    for case, (exit_code, printed) in zip(UPDATES, results, strict=True):
        created_with, update = case.values
        original = originals[answers_key(created_with)]
        project = projects[case.id]
        with subtests.test(msg=case.id):
            assert exit_code == 0, printed
            answers = copier_answers(project)
            assert answers == {**answers, **update}
            env_before = (original / ".env").read_text()
            fresh = tree(fresh_project(answers))
            check_update(project, answers, env_before, fresh, COPIER_ANSWERS)


# --- Upgrades -------------------------------------------------------------------

# The integration package: projects get it as the template has it (in
# cookiecutter.json's _copy_without_render; Copier renders every file, and
# the package has no Jinja: test_copier_copy_writes_the_files_cookiecutter_bakes).
PACKAGE = "django_temporal_bridge"
PACKAGE_IN_TEMPLATE = "{{cookiecutter.project_slug}}/" + PACKAGE
# Its next version: in two of its files, a line (a pattern) and its new text.
NEW_PACKAGE_LINES = {
    "__init__.py": (r'^__version__ = ".*"$', '__version__ = "99.0.0"'),
    "client.py": (r'\A""".*$', '"""How the project connects to Temporal (config.py).'),
}


@pytest.fixture
def own_template(template_repo, scratch, git_env) -> Path:
    """A clone of template_repo that a test may commit to: the other tests
    make their projects from template_repo's one commit."""
    clone = new_dir(scratch, "template") / "template"
    run(["git", "clone", "--quiet", template_repo, clone], scratch, git_env)
    return clone


def release_new_package(template: Path, env: dict) -> None:
    """The package's next version, committed to the template."""
    for name, (line, new) in NEW_PACKAGE_LINES.items():
        path = template / PACKAGE_IN_TEMPLATE / name
        text, replaced = re.subn(line, new, path.read_text(), flags=re.MULTILINE)
        assert replaced == 1, name
        path.write_text(text)
    commit_all(template, env, f"{PACKAGE} 99.0.0")


@pytest.mark.parametrize("tool", ["cruft", "copier"])
def test_an_unedited_package_upgrades_without_conflict(
    tool, copier, own_template, git_env, scratch
):
    """An owner who never edited the integration package gets its new
    version by `cruft update` or `copier update` without conflict, though
    they edited (and committed) files of their own: the package's files
    become the new version's, byte for byte, and the update changes nothing
    else but the answers file."""
    project = new_dir(scratch, "upgraded") / "my_project"
    create, update, answers_file = {
        "cruft": (["create", "--no-input", own_template], ["update", "--skip-apply-ask"], ".cruft.json"),
        "copier": (copier_copy(own_template, {}, project), ["update", "--trust", "--defaults"], COPIER_ANSWERS),
    }[tool]  # fmt: skip

    def run_tool(cwd: Path, args: list) -> None:
        if tool == "cruft":
            run([CRUFT, *args], cwd, git_env)
        else:
            [(exit_code, printed)] = copier((cwd, args))
            assert exit_code == 0, printed

    run_tool(project.parent, create)
    commit_with_user_edits(project, git_env, tool)
    release_new_package(own_template, git_env)

    run_tool(project, update)

    check_merged(project)
    status = run(["git", "status", "--porcelain"], project, git_env).stdout
    changed = sorted(line[3:] for line in status.splitlines())
    assert changed == sorted([answers_file, *(f"{PACKAGE}/{name}" for name in NEW_PACKAGE_LINES)])  # fmt: skip
    assert tree(project / PACKAGE) == tree(own_template / PACKAGE_IN_TEMPLATE)
