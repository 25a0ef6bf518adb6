"""The dev servers that the template's scripts start (scripts/baked.py: the
screenshots, the benchmark) register the generated project's search
attributes, as its own Makefile does: a start refuses a workflow whose search
attributes the server does not know."""

import re

from scripts.baked import SEARCH_ATTRIBUTE_OPTIONS


def registered(text: str) -> dict[str, str]:
    return dict(re.findall(r"--search-attribute[ =](\w+)=(\w+)", text))


def test_the_scripts_dev_server_registers_the_projects_search_attributes(bake):
    makefile = (bake({}) / "Makefile").read_text()

    assert registered(" ".join(SEARCH_ATTRIBUTE_OPTIONS)) == registered(makefile)
    assert registered(makefile)  # the pattern still finds them
