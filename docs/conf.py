"""Sphinx configuration of the template's documentation (`make docs`).

Pages are MyST Markdown. The options table is generated from
cookiecutter.json at build time (docs/_ext/cookiecutter_options.py), and the
architecture diagram is Graphviz (`dot`), rendered to SVG: the site needs no
network to build or to view.
"""

import sys
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS_DIR / "_ext"))

project = "cookiecutter-django-temporal"
author = "cookiecutter-django-temporal contributors"
copyright = "the cookiecutter-django-temporal contributors"

extensions = [
    "myst_parser",
    "sphinx.ext.graphviz",
    "cookiecutter_options",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
# Anchors for headings up to ### so pages can link to sections.
myst_heading_anchors = 3

html_theme = "furo"
html_title = "cookiecutter-django-temporal"
html_static_path = ["_static"]
# No "view source" links to a host the reader may not reach.
html_show_sourcelink = False
html_copy_source = False

graphviz_output_format = "svg"
graphviz_dot_args = [
    "-Gfontname=sans-serif",
    "-Nfontname=sans-serif",
    "-Efontname=sans-serif",
]

# Every cross-reference must resolve.
nitpicky = True
