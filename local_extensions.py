"""Jinja extension of this template (loaded through `_extensions`).

`quoted` turns any answer into one double-quoted string literal that is valid
Python, TOML, YAML and JSON, so names with quotes, backslashes or non-ASCII
letters never break a generated file.

`project_dir` checks the slug before cookiecutter creates the project
directory from it (cookiecutter.json's `__project_dir`): the pre-generation
hook runs only after that, too late for a slug that names no directory.

Cookiecutter renders answers given with `--no-input`, on the command line or
in a config file as Jinja templates; one that is not valid Jinja gets a clear
message here instead of a traceback.
"""

import json

from cookiecutter.exceptions import EmptyDirNameException
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.ext import Extension


def quoted(value: object) -> str:
    # json.dumps escapes quotes, backslashes and control characters; TOML
    # also forbids a raw DEL character, so escape that one too.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


class ProjectDirError(EmptyDirNameException):
    """The slug cannot name the project's directory. (A subclass of the
    exception the cookiecutter command prints as a plain message.)"""


# As in the pre-generation hook (PostgreSQL names): a slug derived from a very
# long project name would otherwise fail as a directory name first.
MAX_SLUG_LENGTH = 63


def project_dir(slug: object) -> str:
    """The slug, if it names one new directory in the output directory.

    An empty slug would name the output directory itself ("." already
    exists), one with a slash a nested directory whose parents a refused bake
    leaves behind, and a very long one no directory at all (OSError). The
    pre-generation hook checks the rest."""
    slug = str(slug)
    example = "Use a lower-case Python identifier such as 'my_project'."
    if not slug.strip():
        raise ProjectDirError(
            "project_slug is empty (a project name with no letters or digits "
            f"gives an empty slug). {example}"
        )
    if slug in (".", "..") or "/" in slug or "\\" in slug:
        raise ProjectDirError(f"project_slug {slug!r} is not a name. {example}")
    if len(slug) > MAX_SLUG_LENGTH:
        raise ProjectDirError(
            f"project_slug {slug[:20]!r}... is {len(slug)} characters long; the "
            f"limit is {MAX_SLUG_LENGTH} (PostgreSQL names). {example}"
        )
    return slug


class QuotedExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["quoted"] = quoted
        environment.filters["project_dir"] = project_dir
        self._checking = False

    def preprocess(self, source, name, filename=None):
        """Refuse a variable's value that is not valid Jinja, clearly.

        Cookiecutter renders variables with `from_string` (no name); files
        have names. Raising UndefinedError makes cookiecutter report the
        variable by name ("Unable to render variable 'project_name'")."""
        if name is not None or self._checking:
            return source
        self._checking = True
        try:
            self.environment.parse(source)
        except TemplateSyntaxError as error:
            problem = error.message
        else:
            # Jinja silently drops an unterminated comment at the very end.
            start = source.rfind("{#")
            unterminated = start >= 0 and "#}" not in source[start:]
            problem = "unterminated comment" if unterminated else None
        finally:
            self._checking = False
        if problem:
            raise UndefinedError(
                f"{source[:60]!r} is not valid Jinja ({problem}). Cookiecutter "
                "renders the answers given with --no-input, on the command line "
                "or in a config file as Jinja templates: leave out '{{', '{%' "
                "and '{#'."
            )
        return source
