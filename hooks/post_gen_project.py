"""Finish the generated project: drop the files of unused options, write the
git-ignored .env with fresh secrets, and print the next steps.

`main()` reads like a table of options: one line per option that removes
files. Jinja appears only inside a string literal, so this file stays valid
Python that the template's tests import. Standard library only, no network.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path.cwd()


def remove(*paths: str) -> None:
    """Remove files or directories of the project (missing ones are fine)."""
    for relative in paths:
        path = PROJECT_DIR / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def write_env_file() -> None:
    """The project's own script writes .env, so `make install` can redo it."""
    subprocess.run(
        [sys.executable, "scripts/create_env.py"],
        cwd=PROJECT_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def style(text: str, code: str) -> str:
    """ANSI colour, unless NO_COLOR is set or the output is not a terminal."""
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return text
    return f"\033[{code}m{text}\033[0m"


def next_steps(answers: dict) -> str:
    slug = answers["project_slug"]
    lines = [
        style(f"Created {answers['project_name']} in ./{slug}", "1;32"),
        "",
        "Run it without Docker (Temporal UI on http://localhost:8080, Django on :8000):",
        style(f"  cd {slug} && make dev", "1"),
        "",
        "Run its tests:",
        style("  make test", "1"),
    ]
    return "\n".join(lines)


def main() -> None:
    # tojson escapes every quote and backslash inside the answers, so any
    # answer renders to a valid string literal here.
    answers = json.loads(r"""{{ cookiecutter|tojson }}""")

    if not answers["use_docker"]:
        remove("Dockerfile", ".dockerignore", "compose.yaml")
    if not answers["use_docker"] or answers["temporal_server"] != "postgresql":
        remove("docker")  # setup scripts of the compose Temporal server
    if answers["ci"] != "github":
        remove(".github")
    if not answers["use_pre_commit"]:
        remove(".pre-commit-config.yaml")

    write_env_file()
    print(next_steps(answers))


if __name__ == "__main__":
    main()
