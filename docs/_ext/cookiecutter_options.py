"""The `cookiecutter-options` directive: a table of every variable of the
template's cookiecutter.json, with its question, default and choices.

It reads the file at build time, so the table cannot drift from it. Derived
defaults (Jinja expressions) are shown rendered with the other defaults, as
cookiecutter would propose them, and marked as derived.
"""

import json
import sys
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent
COOKIECUTTER_JSON = TEMPLATE_DIR / "cookiecutter.json"


def load_context() -> dict:
    return json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8"))


def variables(context: dict) -> list[str]:
    """The variables users answer, in the order they are asked."""
    return [name for name in context if not name.startswith("_")]


def rendered_defaults(context: dict) -> dict:
    """The defaults cookiecutter proposes, derived ones rendered."""
    from cookiecutter.prompt import prompt_for_config

    # The template's own Jinja extension (`_extensions`) must be importable.
    if str(TEMPLATE_DIR) not in sys.path:
        sys.path.insert(0, str(TEMPLATE_DIR))
    return prompt_for_config({"cookiecutter": context}, no_input=True)


def option_rows(context: dict) -> list[dict]:
    """One row per variable: name, question, default, derived, choices."""
    prompts = context.get("__prompts__", {})
    defaults = rendered_defaults(context)
    rows = []
    for name in variables(context):
        raw = context[name]
        prompt = prompts.get(name, "")
        choices: list[tuple[str, str]] = []
        if isinstance(raw, list):
            labels = prompt if isinstance(prompt, dict) else {}
            prompt = labels.get("__prompt__", "")
            choices = [(str(value), labels.get(str(value), "")) for value in raw]
        rows.append(
            {
                "name": name,
                "prompt": prompt,
                "default": defaults[name],
                "derived": isinstance(raw, str) and "{{" in raw,
                "choices": choices,
            }
        )
    return rows


def show(value) -> str:
    """A default as a user would type it (JSON for booleans)."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


class CookiecutterOptions(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(COOKIECUTTER_JSON))
        rows = option_rows(load_context())

        table = nodes.table(classes=["cookiecutter-options"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (18, 40, 16, 26):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self.row(
            [
                nodes.Text(text)
                for text in ("variable", "question", "default", "choices")
            ]
        )
        body = nodes.tbody()
        group += body
        for row in rows:
            default = [nodes.literal(text=show(row["default"]))]
            if row["derived"]:
                default.append(nodes.Text(" (derived)"))
            choices: list[nodes.Node] = []
            for value, label in row["choices"]:
                if choices:
                    choices.append(nodes.Text("; "))
                choices.append(nodes.literal(text=value))
                if label:
                    choices.append(nodes.Text(f": {label}"))
            if isinstance(row["default"], bool):
                choices = [nodes.literal(text="true"), nodes.Text(" or "),
                           nodes.literal(text="false")]  # fmt: skip
            body += self.row(
                [
                    self.option_link(row["name"]),
                    nodes.Text(row["prompt"]),
                    default,
                    choices,
                ]
            )
        return [table]

    def option_link(self, name: str) -> addnodes.pending_xref:
        """A link to the option's own section, labelled `(option-<name>)=`:
        a variable without one fails the (warnings as errors) build."""
        link = addnodes.pending_xref(
            "",
            refdomain="std",
            reftype="ref",
            reftarget=f"option-{name}".lower(),
            refexplicit=True,
            refwarn=True,
            refdoc=self.env.docname,
        )
        link += nodes.literal(text=name)
        return link

    @staticmethod
    def row(cells: list) -> nodes.row:
        row = nodes.row()
        for content in cells:
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            paragraph += content if isinstance(content, list) else [content]
            entry += paragraph
            row += entry
        return row


def setup(app: Sphinx) -> dict:
    app.add_directive("cookiecutter-options", CookiecutterOptions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
