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

Copier loads this file too (copier.yml's `_jinja_extensions`, by path through
copier-template-extensions), where cookiecutter may not be installed. There
it also adds the filters copier.yml needs: `slugify`, which Copier lacks,
and `answer_problem` and `combination_problem`, the pre-generation hook's
checks of an answer.
"""

import functools
import importlib.util
import json
import re
import unicodedata
from pathlib import Path

from jinja2 import TemplateSyntaxError, UndefinedError, pass_context
from jinja2.ext import Extension

try:
    from cookiecutter.exceptions import EmptyDirNameException
except ImportError:  # under Copier, which does not need cookiecutter
    EmptyDirNameException = ValueError


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


def slugify(value: object, separator: str = "-") -> str:
    """Copier's stand-in for cookiecutter's `slugify` filter (python-slugify).

    The same slug for most names in Latin letters: accents dropped,
    apostrophes and every run of other characters made one separator.
    python-slugify also transliterates letters that have no accent to drop
    ("ß" becomes "ss", "日本" "ri_ben"); this drops them, and a slug that
    comes out wrong or empty is refused by its question, which asks again."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore")
    text = re.sub(r"(?<=\d),(?=\d)", "", text.decode().lower())  # 1,000 -> 1000
    return re.sub(r"[^a-z0-9]+", separator, text).strip(separator)


@functools.cache
def pre_gen_hook():
    """hooks/pre_gen_project.py as a module (its checks are plain functions)."""
    path = Path(__file__).resolve().parent / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("pre_gen_project", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answer_problem(value: object, name: str) -> str:
    """What the pre-generation hook finds wrong with one answer, or "".

    Copier's `validator` of each question: a bad answer is refused with the
    message a cookiecutter bake prints."""
    return pre_gen_hook().CHECKS[name](str(value)) or ""


@pass_context
def combination_problem(context, value: object, name: str) -> str:
    """What the pre-generation hook finds wrong with an option given the
    other answers (use_kubernetes without use_docker, say), or "".

    Copier's `validator` of such a question; the context holds the answers
    given so far, the questions before it."""
    answers = {**context.get_all(), name: value}
    return pre_gen_hook().COMBINATION_CHECKS[name](answers) or ""


class QuotedExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["quoted"] = quoted
        environment.filters["project_dir"] = project_dir
        # Cookiecutter has its own slugify (python-slugify): keep it.
        environment.filters.setdefault("slugify", slugify)
        environment.filters["answer_problem"] = answer_problem
        environment.filters["combination_problem"] = combination_problem
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
