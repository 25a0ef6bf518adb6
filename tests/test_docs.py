"""The docs site: it builds with warnings as errors (broken links, missing
pictures, unknown references all fail), and its options table is the
template's cookiecutter.json, every variable documented."""

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE_DIR

DOCS_DIR = TEMPLATE_DIR / "docs"
sys.path.insert(0, str(DOCS_DIR / "_ext"))

import cookiecutter_options  # noqa: E402  (the docs' own Sphinx extension)


def variables() -> list[str]:
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    return [name for name in context if not name.startswith("_")]


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory) -> Path:
    """The HTML site, built as `make docs` builds it."""
    if shutil.which("dot") is None:
        pytest.fail(
            "Graphviz's dot is needed for the docs' diagrams: apt-get install graphviz"
        )
    out = tmp_path_factory.mktemp("docs")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q",
         "-b", "html", "-d", str(out / "doctrees"), str(DOCS_DIR), str(out / "html")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return out / "html"


def text_of(page: Path) -> str:
    """A built page's text, tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_docs_build_without_warnings(built_docs):
    for page in ["index", "getting-started", "options", "project-tour",
                 "troubleshooting", "faq", "guides/versioning"]:  # fmt: skip
        assert (built_docs / f"{page}.html").exists(), page


def test_options_table_shows_every_variable_with_its_question_and_default(
    built_docs,
):
    rows = cookiecutter_options.option_rows(cookiecutter_options.load_context())
    table = re.search(
        r'<table class="cookiecutter-options.*?</table>',
        (built_docs / "options.html").read_text(),
        re.S,
    )
    assert table, "options table missing"
    text = html.unescape(re.sub(r"<[^>]+>", "", table.group(0)))

    assert [row["name"] for row in rows] == variables()
    for row in rows:
        assert row["name"] in text
        assert row["prompt"] and row["prompt"] in text, row["name"]
        assert cookiecutter_options.show(row["default"]) in text, row["name"]
        for value, label in row["choices"]:
            assert value in text and label in text, row["name"]


def test_options_table_renders_derived_defaults():
    rows = {
        row["name"]: row
        for row in cookiecutter_options.option_rows(cookiecutter_options.load_context())
    }

    assert rows["project_slug"]["default"] == "my_project"
    assert rows["project_slug"]["derived"]
    assert rows["task_queue"]["default"] == "my-project-tasks"
    assert rows["use_docker"]["default"] is True
    assert rows["database"]["choices"][0] == ("sqlite", "SQLite (no server to run)")


def test_every_variable_has_its_own_section_and_no_other():
    labels = re.findall(
        r"^\(option-([a-z0-9_]+)\)=$", (DOCS_DIR / "options.md").read_text(), re.M
    )

    assert labels == variables()


def test_getting_started_names_the_two_commands(built_docs):
    text = text_of(built_docs / "getting-started.html")

    for command in ["make bake", "make test", "make dev", "make superuser"]:
        assert command in text
