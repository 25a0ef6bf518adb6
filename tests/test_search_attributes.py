"""Every Temporal server that a baked project or the template's scripts
start registers the project's search attributes, with the same types: the
Makefile's dev server (checked against the project's own definitions by the
generated suite), the Compose dev server, the full server's namespace job,
and the dev server of scripts/baked.py (the screenshots, the benchmark). A
start refuses a workflow whose search attributes the server does not know."""

import re

import pytest

from scripts.baked import SEARCH_ATTRIBUTE_OPTIONS


def registered(text: str) -> dict[str, str]:
    return dict(re.findall(r"--search-attribute[ =](\w+)=(\w+)", text))


def test_the_scripts_dev_server_registers_the_projects_search_attributes(bake):
    makefile = (bake({}) / "Makefile").read_text()

    assert registered(" ".join(SEARCH_ATTRIBUTE_OPTIONS)) == registered(makefile)
    assert registered(makefile)  # the pattern still finds them


def created(script: str) -> dict[str, str]:
    """The `register NAME TYPE` lines of create-namespace.sh."""
    return dict(re.findall(r"^register (\w+) (\w+)$", script, re.MULTILINE))


@pytest.mark.parametrize(
    ("answers", "path", "found"),
    [
        pytest.param({}, "compose.yaml", registered, id="compose-dev-server"),
        pytest.param(
            {"temporal_server": "postgresql"},
            "docker/temporal/create-namespace.sh",
            created,
            id="compose-full-server",
        ),
    ],
)
def test_the_compose_servers_register_what_make_temporal_does(
    bake, answers, path, found
):
    project = bake(answers)
    makefile = (project / "Makefile").read_text()

    assert found((project / path).read_text()) == registered(makefile)
