"""`make compose-smoke`: python -m scripts.compose_smoke [--keep] [key=value ...]"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import DOCKER_COMPOSE, engine, smoke, stand_ins


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="make compose-smoke",
        description=sys.modules[__package__].__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "answers",
        nargs="*",
        metavar="key=value",
        help="cookiecutter answers, e.g. database=postgresql",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the stack running and the project on disk",
    )
    args = parser.parse_args()
    if malformed := [answer for answer in args.answers if "=" not in answer]:
        parser.error(f"answers are key=value: {' '.join(malformed)}")
    answers = dict(answer.split("=", 1) for answer in args.answers)

    began = time.monotonic()
    try:
        started = engine.start()
    except engine.EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Docker engine at {engine.DOCKER_HOST}" + (" (started)" if started else ""))
    work_dir = Path(tempfile.mkdtemp(prefix="compose-smoke-"))
    try:
        smoke(answers, work_dir, keep=args.keep)
    except (stand_ins.StandInError, AssertionError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
            if started:
                engine.stop()
    print(f"Compose smoke passed in {time.monotonic() - began:.0f} s")
    if args.keep:
        # Debian's docker.io has no `docker compose` plugin: name the binary.
        print(f"The stack is still up: cd {work_dir}/* and use "
              f"DOCKER_HOST={engine.DOCKER_HOST} {DOCKER_COMPOSE} -f compose.yaml "
              "-f compose.smoke.yaml …; `down -v` when done")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
