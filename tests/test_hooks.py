"""The hooks: their helpers as plain functions, and bad answers refused at
bake time with a clear message and nothing left on disk."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.exceptions import (
    EmptyDirNameException,
    FailedHookException,
    UndefinedVariableInTemplate,
)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
HOOKS_DIR = TEMPLATE_DIR / "hooks"


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(name, HOOKS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")


@pytest.mark.parametrize(
    "slug",
    ["my_project", "shop", "a", "project2", "x" * 63],
)
def test_valid_slugs(slug):
    assert pre_gen.check_project_slug(slug) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Crème Brûlée 日本 🎉", id="non-ascii"),
        pytest.param('It\'s "quoted" \\ back\\slashed\\', id="quotes-backslashes"),
        pytest.param("key: value # - [a] {b: c} &x *y !z | > @ `", id="yaml"),
        pytest.param("a = 'b' [t] \"\"\" ''' ${VAR} $$ %", id="toml-shell"),
        pytest.param("}} %} #} {", id="jinja-closers"),
        pytest.param("x" * 5000, id="long"),
    ],
)
def test_valid_free_text(text):
    assert pre_gen.check_text("description", text) is None


# (answers, words the hook's message must contain)
# fmt: off
INVALID_ANSWERS = [
    pytest.param({"project_slug": "class"}, ["'class'", "keyword"], id="slug-keyword"),
    pytest.param({"project_slug": "match"}, ["'match'", "keyword"], id="slug-soft-keyword"),
    pytest.param({"project_slug": "test"}, ["'test'", "shadow"], id="slug-stdlib-test"),
    pytest.param({"project_slug": "json"}, ["'json'", "shadow"], id="slug-stdlib-json"),
    pytest.param({"project_slug": "django"}, ["'django'", "shadow"], id="slug-django"),
    pytest.param({"project_slug": "temporalio"}, ["'temporalio'", "shadow"], id="slug-temporalio"),
    pytest.param({"project_slug": "config"}, ["'config'", "shadow"], id="slug-project-package"),
    pytest.param({"project_slug": "2fast"}, ["'2fast'", "not a valid Python identifier"], id="slug-leading-digit"),
    pytest.param({"project_slug": "_private"}, ["'_private'", "starting with a letter"], id="slug-leading-underscore"),
    pytest.param({"project_slug": "shop_"}, ["'shop_'", "ends with an underscore"], id="slug-trailing-underscore"),
    pytest.param({"project_slug": "my-project"}, ["'my-project'", "not a valid Python identifier"], id="slug-dash"),
    pytest.param({"project_slug": "my project"}, ["'my project'", "not a valid Python identifier"], id="slug-space"),
    pytest.param({"project_slug": "café"}, ["'café'", "not a valid Python identifier"], id="slug-non-ascii"),
    pytest.param({"project_slug": "MyProject"}, ["'MyProject'", "upper-case"], id="slug-upper-case"),
    pytest.param({"project_name": "123"}, ["'123'", "not a valid Python identifier"], id="slug-derived-from-digits"),
    pytest.param({"task_queue": ""}, ["task_queue ''", "my-project-tasks"], id="queue-empty"),
    pytest.param({"task_queue": "my tasks"}, ["task_queue 'my tasks'"], id="queue-space"),
    pytest.param({"task_queue": "-tasks"}, ["task_queue '-tasks'"], id="queue-leading-dash"),
    pytest.param({"task_queue": "q" * 201}, ["task_queue 'qqq"], id="queue-too-long"),
    pytest.param({"temporal_namespace": ""}, ["temporal_namespace ''", "'default'"], id="namespace-empty"),
    pytest.param({"temporal_namespace": "my ns"}, ["temporal_namespace 'my ns'"], id="namespace-space"),
    pytest.param({"temporal_namespace": "ns-"}, ["temporal_namespace 'ns-'"], id="namespace-trailing-dash"),
    pytest.param({"timezone": "Mars/Olympus"}, ["timezone 'Mars/Olympus'", "'UTC'"], id="timezone-unknown"),
    pytest.param({"project_slug": "type"}, ["'type'", "keyword"], id="slug-soft-keyword-type"),
    pytest.param({"project_slug": "asyncio"}, ["'asyncio'", "shadow"], id="slug-stdlib-asyncio"),
    pytest.param({"project_slug": "environ"}, ["'environ'", "shadow"], id="slug-dependency"),
    pytest.param({"project_slug": "my.project"}, ["'my.project'", "not a valid Python identifier"], id="slug-dot"),
    pytest.param({"project_slug": "my_Project"}, ["'my_Project'", "upper-case"], id="slug-mixed-case"),
    pytest.param({"task_queue": "tâches"}, ["task_queue 'tâches'"], id="queue-non-ascii"),
    pytest.param({"task_queue": "a/b"}, ["task_queue 'a/b'"], id="queue-slash"),
    pytest.param({"temporal_namespace": ".ns"}, ["temporal_namespace '.ns'"], id="namespace-leading-dot"),
    pytest.param({"temporal_namespace": "n" * 256}, ["temporal_namespace 'nnn", "1 to 255"], id="namespace-too-long"),
    pytest.param({"project_name": "  ", "project_slug": "blank"}, ["project_name is empty"], id="name-blank"),
    pytest.param({"project_name": "Two\nlines", "project_slug": "two_lines"}, ["project_name must be a single line", "line break"], id="name-newline"),
    pytest.param({"project_name": "A\u2028B", "project_slug": "ab"}, ["project_name must be a single line", "U+2028"], id="name-line-separator"),
    pytest.param({"description": "a\rb"}, ["description must be a single line"], id="description-carriage-return"),
    pytest.param({"description": "nul\x00here"}, ["description", "control character U+0000"], id="description-nul"),
    pytest.param({"author_name": "Ada\tLovelace"}, ["author_name", "control character U+0009"], id="author-tab"),
    pytest.param({"author_name": "Ada\x7f"}, ["author_name", "control character U+007F"], id="author-del"),
    pytest.param({"email": "a@example.com\n"}, ["email must be a single line"], id="email-newline"),
    # Cookiecutter renders the raw block away; the hook sees the braces it
    # leaves, which cruft would render again on every update.
    pytest.param({"description": "{% raw %}{{ x }}{% endraw %}"}, ["description", "Jinja template syntax", "cruft update"], id="description-jinja"),
    pytest.param({"author_name": "{% raw %}{# x #}{% endraw %}"}, ["author_name", "Jinja template syntax"], id="author-jinja-comment"),
    # Options that need others (UNSUPPORTED_COMBINATIONS of test_generation.py).
    pytest.param({"use_kubernetes": True, "database": "postgresql", "use_docker": False}, ["use_kubernetes needs use_docker", "Dockerfile"], id="kubernetes-without-docker"),
    pytest.param({"use_kubernetes": True}, ["use_kubernetes needs database=postgresql, not 'sqlite'", "SQLite"], id="kubernetes-with-sqlite"),
]
# fmt: on


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        *INVALID_ANSWERS,
        # At bake time the template's Jinja extension refuses these first.
        pytest.param({"project_slug": ""}, ["project_slug is empty"], id="slug-empty"),
        pytest.param(
            {"project_slug": "x" * 64},
            ["64 characters", "limit is 63"],
            id="slug-too-long",
        ),
    ],
)
def test_invalid_answers_are_explained(answers, words):
    defaults = {
        "project_name": "My Project",
        "project_slug": "my_project",
        "description": "d",
        "author_name": "a",
        "email": "a@example.com",
        "task_queue": "my-project-tasks",
        "temporal_namespace": "default",
        "timezone": "UTC",
        "database": "sqlite",
        "use_docker": True,
        "use_kubernetes": False,
    }
    if "project_name" in answers and "project_slug" not in answers:
        answers = {**answers, "project_slug": answers["project_name"]}
    messages = pre_gen.errors({**defaults, **answers})

    assert len(messages) == 1
    for word in words:
        assert word in messages[0]


@pytest.mark.parametrize(("answers", "words"), INVALID_ANSWERS)
def test_invalid_answers_stop_the_bake_and_leave_nothing(
    cookies, capfd, answers, words
):
    result = cookies.bake(extra_context=answers)

    assert isinstance(result.exception, FailedHookException), result.exception
    assert result.project_path is None or not result.project_path.exists()
    output_dir = Path(cookies._new_output_dir()).parent
    assert [p for p in output_dir.rglob("*") if p.is_file()] == []
    stderr = capfd.readouterr().err
    for word in words:
        assert word in stderr


# Slugs that name no new directory. Cookiecutter creates the directory before
# the pre-generation hook runs, and would report '"." directory already
# exists', leave the parents of "a/b" behind or fail with "File name too
# long" (a slug derived from a very long name); cookiecutter.json's
# __project_dir (local_extensions.project_dir) refuses them first, and the
# cookiecutter command prints the message alone.
# fmt: off
NO_DIRECTORY_SLUGS = [
    pytest.param({"project_slug": ""}, "project_slug is empty", id="slug-empty"),
    pytest.param({"project_name": "!!!"}, "project_slug is empty", id="name-without-letters"),
    pytest.param({"project_slug": "."}, "project_slug '.' is not a name", id="slug-dot"),
    pytest.param({"project_slug": ".."}, "project_slug '..' is not a name", id="slug-dot-dot"),
    pytest.param({"project_slug": "a/b"}, "project_slug 'a/b' is not a name", id="slug-slash"),
    pytest.param({"project_slug": "x" * 64}, "is 64 characters long; the limit is 63", id="slug-too-long"),
    pytest.param({"project_name": "A" * 300}, "is 300 characters long; the limit is 63", id="name-very-long"),
]
# fmt: on


def run_cookiecutter(tmp_path: Path, answers: dict) -> subprocess.CompletedProcess:
    """The cookiecutter command, as a user runs it, into tmp_path/out."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\n"
        f"replay_dir: {tmp_path / 'replay'}\n"
    )
    (tmp_path / "out").mkdir()
    return subprocess.run(
        [
            Path(sys.executable).parent / "cookiecutter",
            "--no-input",
            "--config-file",
            config,
            "--output-dir",
            tmp_path / "out",
            TEMPLATE_DIR,
            *(f"{key}={value}" for key, value in answers.items()),
        ],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(("answers", "message"), NO_DIRECTORY_SLUGS)
def test_slugs_that_name_no_directory_are_refused_first(
    cookies, tmp_path, answers, message
):
    result = cookies.bake(extra_context=answers)
    command = run_cookiecutter(tmp_path, answers)

    assert isinstance(result.exception, EmptyDirNameException), result.exception
    assert message in str(result.exception)
    assert command.returncode == 1
    assert command.stdout.strip() == str(result.exception)
    assert list((tmp_path / "out").iterdir()) == []


# Cookiecutter renders answers given with --no-input or as extra context as
# Jinja templates; one that does not render is reported with its variable.
# fmt: off
UNRENDERABLE_ANSWERS = [
    pytest.param({"project_name": "{{"}, ["'project_name'", "not valid Jinja"], id="name-open-braces"),
    pytest.param({"description": "{% if %}"}, ["'description'", "not valid Jinja"], id="description-tag"),
    pytest.param({"author_name": "Ada {#"}, ["'author_name'", "unterminated comment"], id="author-comment"),
    pytest.param({"description": "{{ nope }}"}, ["'description'", "'nope' is undefined"], id="description-undefined"),
]
# fmt: on


@pytest.mark.parametrize(("answers", "words"), UNRENDERABLE_ANSWERS)
def test_unrenderable_answers_are_reported_by_name(cookies, tmp_path, answers, words):
    result = cookies.bake(extra_context=answers)
    command = run_cookiecutter(tmp_path, answers)

    error = result.exception
    assert isinstance(error, UndefinedVariableInTemplate), error
    for word in words:
        assert word in f"{error.message}: {error.error.message}"
        assert word in command.stdout
    assert command.returncode == 1
    assert "Traceback" not in command.stdout + command.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_default_answers_pass_validation(cookies):
    result = cookies.bake()

    assert result.exit_code == 0, result.exception
    assert result.project_path.name == "my_project"
    assert result.context["task_queue"] == "my-project-tasks"


def test_slug_is_derived_with_slugify(cookies):
    result = cookies.bake(extra_context={"project_name": "Crème Brûlée Shop!"})

    assert result.exit_code == 0, result.exception
    assert result.context["project_slug"] == "creme_brulee_shop"
    assert result.context["task_queue"] == "creme-brulee-shop-tasks"


def test_remove_deletes_files_and_directories(tmp_path, monkeypatch):
    monkeypatch.setattr(post_gen, "PROJECT_DIR", tmp_path)
    (tmp_path / "compose.yaml").write_text("")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "kept.txt").write_text("")

    post_gen.remove("compose.yaml", ".github", "never-existed")

    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


@pytest.mark.parametrize(
    ("no_color", "expect_escape"),
    [pytest.param("1", False, id="NO_COLOR"), pytest.param("", True, id="colour")],
)
def test_style_respects_no_color(monkeypatch, no_color, expect_escape):
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setattr(post_gen.sys.stderr, "isatty", lambda: True)

    assert ("\033[" in post_gen.style("hi", "1")) is expect_escape


def test_env_file_is_private_and_has_a_fresh_secret(cookies):
    first = cookies.bake().project_path / ".env"
    second = cookies.bake().project_path / ".env"

    assert first.stat().st_mode & 0o777 == 0o600

    def secret(path):
        line = next(
            line
            for line in path.read_text().splitlines()
            if line.startswith("DJANGO_SECRET_KEY=")
        )
        return line.partition("=")[2]

    assert len(secret(first)) >= 50
    assert secret(first) != secret(second)
    assert ".env\n" in (first.parent / ".gitignore").read_text()


# The post-generation hook's closing message: what was generated, what to run.
ANSWERS = {
    "project_name": "My Project",
    "project_slug": "my_project",
    "python_version": "3.13",
    "database": "sqlite",
    "task_queue": "my-project-tasks",
    "temporal_namespace": "default",
    "use_docker": True,
    "temporal_server": "dev-server",
    "use_temporal_ui": True,
    "use_mailpit": True,
    "use_kubernetes": False,
    "ci": "github",
    "use_pre_commit": True,
    "use_sentry": False,
    "example_workflows": True,
}


@pytest.fixture
def plain_output(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


def test_summary_names_every_choice(plain_output):
    lines = post_gen.summary({**ANSWERS, "temporal_server": "postgresql"})

    assert lines == [
        "  Python          3.13 or later",
        "  database        SQLite",
        "  task queue      my-project-tasks",
        "  namespace       default",
        "  Docker Compose  Temporal server on PostgreSQL, Temporal UI, Mailpit",
        "  Kubernetes      no",
        "  CI              GitHub Actions",
        "  pre-commit      yes",
        "  Sentry          no",
        "  examples        onboarding, batches",
    ]


def test_summary_says_when_the_examples_are_left_out(plain_output):
    lines = post_gen.summary({**ANSWERS, "example_workflows": False})

    assert "  examples        no" in lines


def test_summary_names_the_kubernetes_manifests(plain_output):
    answers = {**ANSWERS, "use_kubernetes": True, "database": "postgresql"}

    assert "  Kubernetes      deploy/kubernetes" in post_gen.summary(answers)


def test_summary_without_docker_leaves_out_compose_services(plain_output):
    lines = post_gen.summary({**ANSWERS, "use_docker": False, "ci": "none"})

    assert "  Docker Compose  no" in lines
    assert "  CI              none" in lines
    assert not any("Mailpit" in line or "Temporal UI" in line for line in lines)


@pytest.mark.parametrize(
    ("answers", "present", "absent"),
    [
        pytest.param(
            {"use_docker": False, "use_pre_commit": False},
            ["cd my_project && make dev", "make superuser", "make test"],
            ["docker compose", "pre-commit", "PostgreSQL"],
            id="no-docker",
        ),
        pytest.param(
            {},
            [
                "cd my_project && make dev",
                "cd my_project && docker compose up",
                "docker compose run --rm web python manage.py createsuperuser",
                "git init && .venv/bin/pre-commit install",
            ],
            ["PostgreSQL"],
            id="docker-pre-commit",
        ),
        pytest.param(
            {"database": "postgresql", "use_docker": False},
            ["a PostgreSQL server with a database named my_project", "DATABASE_URL"],
            ["docker compose"],
            id="postgresql",
        ),
    ],
)
def test_next_commands_follow_the_options(plain_output, answers, present, absent):
    text = "\n".join(post_gen.commands({**ANSWERS, **answers}))

    for words in present:
        assert words in text
    for words in absent:
        assert words not in text


def test_next_steps_are_coloured_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(post_gen.sys.stderr, "isatty", lambda: True)

    text = post_gen.next_steps(ANSWERS)

    assert "\033[1;32mCreated My Project in ./my_project\033[0m" in text
    assert "\033[1m     cd my_project && make dev\033[0m" in text


def test_next_steps_are_plain_with_no_color(plain_output, monkeypatch):
    monkeypatch.setattr(post_gen.sys.stderr, "isatty", lambda: True)

    text = post_gen.next_steps(ANSWERS)

    assert "\033[" not in text
    assert text.startswith("Created My Project in ./my_project\n")
    assert "Next steps" in text


def test_bake_prints_the_summary_and_next_steps_on_stderr(cookies, capfd):
    result = cookies.bake(extra_context={"use_docker": False})

    assert result.exit_code == 0, result.exception
    printed = capfd.readouterr()
    assert printed.out == ""  # `cruft diff > changes.patch` stays a clean patch
    out = printed.err
    assert "Created My Project in ./my_project" in out
    assert "Docker Compose  no" in out
    assert "cd my_project && make dev" in out
    assert "docker compose" not in out
