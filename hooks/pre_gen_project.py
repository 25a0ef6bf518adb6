"""Validate the answers before any file is written.

Each check returns an error message (or None). On the first error the hook
prints what is wrong and what would be valid, and exits non-zero; cookiecutter
then removes the half-written project directory.

Jinja appears only inside string literals, so this file stays valid Python
that the template's tests import and lint. Standard library only.
"""

import functools
import json
import keyword
import re
import sys
import unicodedata
import zoneinfo

# Top-level modules a generated project imports (its own packages and its
# dependencies), and the stdlib's `test` package, which stdlib_module_names
# leaves out. A slug with one of these names would shadow it.
PROJECT_MODULES = frozenset(
    {
        "allauth",
        "apps",
        "asgiref",
        "config",
        "django",
        "django_temporal_bridge",
        "environ",
        "gunicorn",
        "honcho",
        "manage",
        "psycopg",
        "pytest",
        "pytest_django",
        "temporal_app",
        "temporalio",
        "test",
        "tests",
        "whitenoise",
    }
)
SHADOWED_MODULES = PROJECT_MODULES | frozenset(sys.stdlib_module_names)

# PostgreSQL identifiers (the slug names the database) stop at 63 bytes.
MAX_SLUG_LENGTH = 63
# Temporal accepts longer names; these limits keep them usable in .env files,
# shells, URLs and the Web UI.
TASK_QUEUE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,253}[A-Za-z0-9])?")


def check_project_slug(slug: str) -> str | None:
    """The slug names the directory, the database and the compose project."""
    example = "Use a lower-case Python identifier such as 'my_project'."
    if not slug:
        return f"project_slug is empty. {example}"
    if not (slug.isascii() and slug.isidentifier() and slug[0].isalpha()):
        return (
            f"project_slug {slug!r} is not a valid Python identifier starting "
            f"with a letter (then letters, digits and underscores). {example}"
        )
    if slug.endswith("_"):
        return (
            f"project_slug {slug!r} ends with an underscore, which the package's "
            f"name in pyproject.toml cannot (PEP 508). {example}"
        )
    if slug != slug.lower():
        return f"project_slug {slug!r} has upper-case letters. {example}"
    if keyword.iskeyword(slug) or keyword.issoftkeyword(slug):
        return f"project_slug {slug!r} is a Python keyword. {example}"
    if slug in SHADOWED_MODULES:
        return (
            f"project_slug {slug!r} would shadow the {slug!r} module that "
            f"Python, Django or Temporal code imports. {example}"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        return (
            f"project_slug {slug[:20]!r}... is {len(slug)} characters long; "
            f"the limit is {MAX_SLUG_LENGTH} (PostgreSQL names). {example}"
        )
    return None


def check_task_queue(task_queue: str) -> str | None:
    if TASK_QUEUE_PATTERN.fullmatch(task_queue):
        return None
    return (
        f"task_queue {task_queue!r} is not a valid task queue name: use 1 to 200 "
        "letters, digits, '.', '_' or '-', starting with a letter or digit, "
        "such as 'my-project-tasks'."
    )


def check_temporal_namespace(namespace: str) -> str | None:
    if NAMESPACE_PATTERN.fullmatch(namespace):
        return None
    return (
        f"temporal_namespace {namespace!r} is not a valid namespace name: use 1 to "
        "255 letters, digits, '.', '_' or '-', starting and ending with a letter "
        "or digit, such as 'default' or 'my-project.a1b2c' (Temporal Cloud)."
    )


def check_timezone(name: str) -> str | None:
    if name in zoneinfo.available_timezones():
        return None
    return (
        f"timezone {name!r} is not an IANA time zone name: use one such as 'UTC' "
        "or 'Europe/Berlin'."
    )


# Characters that end a line somewhere: Python's str.splitlines() (and so
# the .env readers) and YAML also break lines at these.
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# What cookiecutter reads as Jinja when it renders an answer. cruft renders the
# saved answers again on every update and diff, so an answer that still holds
# one after the first rendering would change or fail then. (Spelled in pieces:
# this file is a Jinja template too.)
JINJA_DELIMITERS = tuple("{" + second for second in ("{", "%", "#"))


def shown(value: str, limit: int = 60) -> str:
    """The answer as a Python literal, shortened when it is long."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


def unprintable(char: str) -> str | None:
    """What is wrong with one character of a free-text answer, if anything."""
    code = f"U+{ord(char):04X}"
    if char in LINE_BREAKS:
        return f"a line break ({code})"
    category = unicodedata.category(char)
    if category == "Cc":
        return f"the control character {code}"
    if category == "Cs":
        return f"the unpaired surrogate {code} (not valid Unicode text)"
    # U+FDD0..U+FDEF and the last two code points of every plane: YAML and
    # TOML files may not hold them.
    if 0xFDD0 <= ord(char) <= 0xFDEF or ord(char) & 0xFFFE == 0xFFFE:
        return f"the non-character {code}"
    return None


def check_text(variable: str, value: str) -> str | None:
    """Free-text answers end up in TOML, YAML, Markdown, Makefile and .env
    comments, and Python strings: one line of printable text, no Jinja."""
    for char in value:
        if problem := unprintable(char):
            return (
                f"{variable} must be a single line of printable text; "
                f"{shown(value)} contains {problem}."
            )
    for delimiter in JINJA_DELIMITERS:
        if delimiter in value:
            return (
                f"{variable} {shown(value)} contains {delimiter!r}, which "
                "cookiecutter reads as Jinja template syntax when it renders the "
                "saved answers again (as cruft update and cruft diff do). "
                "Leave it out."
            )
    return None


def check_project_name(name: str) -> str | None:
    if not name.strip():
        return "project_name is empty. Name the project, such as 'My Project'."
    return check_text("project_name", name)


# The answers that can be wrong, in the order the questions are asked, and
# their checks. Copier's questions (copier.yml) run the same ones, through
# local_extensions.answer_problem.
CHECKS = {
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "description": functools.partial(check_text, "description"),
    "author_name": functools.partial(check_text, "author_name"),
    "email": functools.partial(check_text, "email"),
    "task_queue": check_task_queue,
    "temporal_namespace": check_temporal_namespace,
    "timezone": check_timezone,
}


def check_use_kubernetes(answers: dict) -> str | None:
    """The manifests run the project's image (the Dockerfile) in pods that
    share no filesystem, so they need a database server."""
    if not answers["use_kubernetes"]:
        return None
    if not answers["use_docker"]:
        return (
            "use_kubernetes needs use_docker: the Kubernetes manifests run the "
            "image that the Dockerfile builds. Answer use_docker=true, or "
            "use_kubernetes=false."
        )
    if answers["database"] != "postgresql":
        return (
            f"use_kubernetes needs database=postgresql, not {answers['database']!r}: "
            "the web, worker and job pods share no filesystem, so they cannot "
            "share one SQLite file. Answer database=postgresql, or "
            "use_kubernetes=false."
        )
    return None


# Options that need others, checked on all the answers. Copier's question
# runs the same check (local_extensions.combination_problem).
COMBINATION_CHECKS = {
    "use_kubernetes": check_use_kubernetes,
}


def errors(answers: dict) -> list[str]:
    """Every problem with the answers, in the order the questions are asked."""
    found = [check(answers[name]) for name, check in CHECKS.items()]
    found += [check(answers) for check in COMBINATION_CHECKS.values()]
    return [message for message in found if message]


def main() -> int:
    # tojson escapes every quote and backslash inside the answers, so any
    # answer renders to a valid string literal here.
    answers = json.loads(r"""{{ cookiecutter|tojson }}""")
    problems = errors(answers)
    for message in problems:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
