"""Bake every supported combination of answers and check what comes out:
it renders completely, parses, lints, passes Django's checks, and its own
test suite passes. Rejected answers stop in the pre-generation hook."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

# Every value of every variable, and the pairs that interact.
SUPPORTED_COMBINATIONS = [
    {},
    {"use_docker": False},
]


def _fixture_id(answers: dict) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items()) or "defaults"


# Cookiecutter syntax that survived rendering. Django's own template tags are
# fine, but never mention `cookiecutter` and never use Jinja's `-` trimming.
UNRENDERED = re.compile(r"{{[^}]*cookiecutter|{%-?[^%]*cookiecutter|{%-|-%}|{{-|-}}")


def project_files(project: Path) -> list[Path]:
    return [path for path in project.rglob("*") if path.is_file()]


def run_in(project: Path, venv: Path, *args: str, **env: str):
    """Run a command of the generated project in the shared virtualenv."""
    return subprocess.run(
        args,
        cwd=project,
        env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
    )


@pytest.fixture(params=SUPPORTED_COMBINATIONS, ids=_fixture_id)
def project(request, bake) -> Path:
    return bake(request.param)


def test_no_unrendered_template_syntax(project):
    leftovers = [
        f"{path.relative_to(project)}: {match.group()}"
        for path in project_files(project)
        for match in UNRENDERED.finditer(path.read_text(errors="replace"))
    ]
    assert leftovers == []


def test_python_files_compile(project):
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_config_files_parse(project):
    parsers = {
        ".toml": tomllib.loads,
        ".json": json.loads,
        ".yaml": yaml.safe_load,
        ".yml": yaml.safe_load,
    }
    checked = []
    for path in project_files(project):
        if parse := parsers.get(path.suffix):
            parse(path.read_text())
            checked.append(path.name)
    assert "pyproject.toml" in checked


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["check", "--no-fix", "."], id="lint"),
        pytest.param(["format", "--check", "."], id="format"),
    ],
)
def test_ruff(project, command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["check", "--fail-level", "WARNING"], id="check"),
        pytest.param(["makemigrations", "--check", "--dry-run"], id="migrations"),
    ],
)
def test_django_management_command(project, generated_venv, command):
    result = run_in(project, generated_venv, "python", "manage.py", *command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_test_suite_passes(project, generated_venv):
    # Exit code 5 (no test collected) fails here too.
    result = run_in(
        project, generated_venv, "python", "-m", "pytest", "-p", "no:cacheprovider"
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
