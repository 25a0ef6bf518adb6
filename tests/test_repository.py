"""The template repository's own update bots: the workflow that locks the
generated projects again each week (`make lock`) and Dependabot for the
template's tools, valid against their schemas and audited by zizmor."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE_DIR, check_jsonschema, output

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-workflows", ".github/workflows/lock.yml"),
        ("vendor.dependabot", ".github/dependabot.yml"),
    ],
    ids=["lock-workflow", "dependabot"],
)
def test_the_repository_s_github_files_validate(schema, path):
    exit_code, printed = check_jsonschema(schema, TEMPLATE_DIR / path)
    assert exit_code == 0, printed


def test_the_lock_bot_runs_make_lock_weekly_and_passes_zizmor():
    workflow = TEMPLATE_DIR / ".github/workflows/lock.yml"
    zizmor = subprocess.run(
        [BIN / "zizmor", "--offline", workflow],
        capture_output=True,
        text=True,
        timeout=120,
    )
    config = yaml.safe_load(workflow.read_text())
    steps = config["jobs"]["lock"]["steps"]

    assert zizmor.returncode == 0, output(zizmor)
    assert {"run": "make lock"} in steps
    assert config[True]["schedule"]  # YAML 1.1 reads the key `on` as True
    makefile = (TEMPLATE_DIR / "Makefile").read_text()
    assert "\nlock: install" in makefile
