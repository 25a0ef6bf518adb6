"""Run copier command lines one after another in this one process.

    python copier_batch.py COMMANDS.json

COMMANDS.json holds a list of {"cwd": ..., "args": [...]}, each what a user
would type after `copier` in that directory. Prints a JSON list with each
command's exit code and output (its tasks' included). One process for many
commands: Copier takes a second to start, and the template's tests run
dozens of commands.

Cookiecutter is made impossible to import first: users install Copier alone,
and the template's Jinja extension (local_extensions.py) must load without it.
"""

import contextlib
import json
import os
import sys
import tempfile
import traceback

sys.modules["cookiecutter"] = None  # `import cookiecutter...` raises ImportError

from copier._cli import CopierApp  # noqa: E402


@contextlib.contextmanager
def output_into(file):
    """Send this process's stdout and stderr, and its children's, to file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(file.fileno(), 1)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def run(cwd: str, args: list[str]) -> dict:
    with tempfile.TemporaryFile("w+") as output:
        with output_into(output):
            os.chdir(cwd)
            try:
                _, exit_code = CopierApp.run(["copier", *args], exit=False)
            except Exception:  # as the command would end: a traceback, status 1
                traceback.print_exc()
                exit_code = 1
        output.seek(0)
        return {"exit_code": exit_code, "output": output.read()}


if __name__ == "__main__":
    with open(sys.argv[1]) as commands:
        results = [
            run(command["cwd"], command["args"]) for command in json.load(commands)
        ]
    print(json.dumps(results))
