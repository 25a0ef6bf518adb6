"""Lock the generated projects' dependencies again: `make lock`.

A generated project ships a uv.lock that matches its pyproject.toml, whatever
the answers, and baking resolves nothing (it stays offline and fast). So the
template's `{{cookiecutter.project_slug}}/uv.lock` is itself a template, made
here from real locks:

1. for each Python version of cookiecutter.json, a project baked with every
   optional dependency is locked by uv against the index (`uv lock
   --upgrade`: the newest versions pyproject.toml allows);
2. each combination of the answers that change the dependencies is baked and
   locked from that lock (uv keeps its versions and drops what the
   combination does not use), offline;
3. the lines of all those locks are merged in order, and each run of lines
   that not every combination has is wrapped in a Jinja condition on the
   answers, so that rendering gives each combination its own lock, line for
   line (checked here with `uv lock --check --offline`, and by the template
   suite for every supported combination).

    make lock                                   # the newest allowed versions
    .venv/bin/python -m scripts.lock [--keep]

Needs the network (PyPI) for step 1 only.
"""

import argparse
import difflib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.baked import TEMPLATE_DIR, bake

LOCK_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "uv.lock"
PROJECT_NAME = "my-project"  # the default slug's, as uv normalises it
NAME_JINJA = 'name = "{{ cookiecutter.project_slug|slugify }}"'  # any slug's

# The answers that change pyproject.toml's dependencies: (Jinja condition,
# answers when true, answers when false).
FEATURES = {
    "python_version": (
        'cookiecutter.python_version == "3.12"',
        {"python_version": "3.12"},
        {"python_version": "3.13"},
    ),
    "database": (
        'cookiecutter.database == "postgresql"',
        {"database": "postgresql"},
        {"database": "sqlite"},
    ),
    "use_sentry": (
        "cookiecutter.use_sentry",
        {"use_sentry": True},
        {"use_sentry": False},
    ),
    "use_docker": (
        "cookiecutter.use_docker",
        {"use_docker": True},
        {"use_docker": False},
    ),
    "use_pre_commit": (
        "cookiecutter.use_pre_commit",
        {"use_pre_commit": True},
        {"use_pre_commit": False},
    ),
}
Variant = tuple[bool, ...]  # one value per feature, in FEATURES' order


def uv(*args: str, cwd: Path) -> None:
    """uv's lock is universal: any Python >= 3.12 locks for every version."""
    subprocess.run(
        [str(TEMPLATE_DIR / ".venv" / "bin" / "uv"), *args, "--python", sys.executable],
        cwd=cwd,
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )


def answers_of(variant: Variant) -> dict:
    answers: dict = {}
    for on, (_, when_on, when_off) in zip(variant, FEATURES.values(), strict=True):
        answers |= when_on if on else when_off
    return answers


def baked(work: Path, variant: Variant) -> Path:
    return bake(work / "".join(str(int(on)) for on in variant), **answers_of(variant))


def lock_lines(work: Path, variant: Variant, start_from: Path | None) -> list[str]:
    """Bake `variant`, lock it (from `start_from`'s versions if given)."""
    project = baked(work, variant)
    if start_from is None:
        uv("lock", "--upgrade", cwd=project)
    else:
        shutil.copy(start_from, project / "uv.lock")
        uv("lock", "--offline", cwd=project)
    return (project / "uv.lock").read_text().splitlines()


def merge(sequences: dict[Variant, list[str]]) -> list[tuple[str, set[Variant]]]:
    """One sequence of lines holding each variant's lines in its order, each
    line with the variants that have it."""
    merged: list[tuple[str, set[Variant]]] = []
    for variant, lines in sequences.items():
        matcher = difflib.SequenceMatcher(
            None, [line for line, _ in merged], lines, autojunk=False
        )
        result: list[tuple[str, set[Variant]]] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                result += [(line, owners | {variant}) for line, owners in merged[i1:i2]]
            else:
                result += merged[i1:i2]
                result += [(line, {variant}) for line in lines[j1:j2]]
        merged = result
    return merged


def literal(index: int, on: bool) -> str:
    condition = list(FEATURES.values())[index][0]
    if on:
        return condition
    return condition.replace("==", "!=") if "==" in condition else f"not {condition}"


def condition(owners: set[Variant], variants: list[Variant]) -> str | None:
    """A Jinja condition true for exactly `owners` (None: true for all)."""
    if len(owners) == len(variants):
        return None
    # Terms: conjunctions of literals whose variants are all owners; the
    # greedy cover, biggest terms first, reads like the dependency's reason.
    features = range(len(FEATURES))
    terms = []
    for size in range(1, len(FEATURES) + 1):
        for indexes in itertools.combinations(features, size):
            for values in itertools.product([True, False], repeat=size):
                term = dict(zip(indexes, values, strict=True))
                covered = {
                    v for v in variants if all(v[i] == b for i, b in term.items())
                }
                if covered <= owners:
                    terms.append((term, covered))
    chosen, left = [], set(owners)
    while left:
        term, covered = max(terms, key=lambda t: (len(t[1] & left), -len(t[0])))
        chosen.append(term)
        left -= covered
    parts = [" and ".join(literal(i, b) for i, b in term.items()) for term in chosen]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({part})" if " and " in part else part for part in parts)


def template(merged: list[tuple[str, set[Variant]]], variants: list[Variant]) -> str:
    out: list[str] = []
    for owners, run in itertools.groupby(merged, key=lambda item: frozenset(item[1])):
        text = "".join(line + "\n" for line, _ in run)
        text = text.replace(f'name = "{PROJECT_NAME}"', NAME_JINJA)
        if (test := condition(set(owners), variants)) is None:
            out.append(text)
        else:
            out.append("{% if " + test + " %}" + text + "{% endif %}")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the bakes")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="lock-"))
    variants = list(itertools.product([True, False], repeat=len(FEATURES)))
    locks: dict[Variant, list[str]] = {}
    for python_on in (True, False):
        superset = (python_on, *[True] * (len(FEATURES) - 1))
        locks[superset] = lock_lines(work / "upgrade", superset, None)
        start = work / f"superset-{int(python_on)}.lock"
        start.write_text("\n".join(locks[superset]) + "\n")
        for variant in variants:
            if variant[0] == python_on and variant != superset:
                locks[variant] = lock_lines(work / "variants", variant, start)
    for lines in locks.values():  # no Jinja in a lock but what template() adds
        assert not any(d in line for line in lines for d in ("{{", "{%", "{#"))
    text = template(merge(locks), variants)
    LOCK_TEMPLATE.write_text(text)
    # Each combination renders its own lock again: uv agrees, offline.
    for variant in variants:
        uv("lock", "--check", "--offline", cwd=baked(work / "check", variant))
    print(
        f"{LOCK_TEMPLATE.relative_to(TEMPLATE_DIR)}: {text.count(chr(10))} lines, "
        f"{len(variants)} combinations checked"
    )
    if args.keep:
        print(f"bakes kept in {work}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
