"""Fixtures of the template's suite: baking, and the virtualenv in which every
generated project's own test suite runs."""

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import uv
from check_jsonschema.cli.main_command import main as check_jsonschema_cli
from click.testing import CliRunner
from hypothesis import settings

from scripts.compose_smoke import engine

# Property-based tests explore new examples on every run; CI sets
# HYPOTHESIS_PROFILE=ci for a fixed, repeatable set (a failure there then
# means the change broke something, not that a new example turned up).
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# Where the shared virtualenv (and the Docker engine's images) are kept
# between runs: TEMPLATE_TEST_CACHE, or ~/.cache/cookiecutter-django-temporal.
CACHE_DIR = engine.CACHE_DIR
# The answers whose project needs every package any combination needs.
ALL_PACKAGES_ANSWERS = {
    "use_kubernetes": True,
    "use_sentry": True,
    "database": "postgresql",
}


# The files each bake wrote, before any test ran in the project (runs add
# caches such as __pycache__, never change these files).
BAKED_FILES: dict[Path, list[Path]] = {}


@pytest.fixture(scope="session")
def bake(cookies_session):
    """bake(answers) -> the generated project's path, baked once per session.

    Tests of one combination share its bake; they only read it (the generated
    suite leaves nothing tracked behind).
    """
    baked: dict[str, Path] = {}

    def bake(answers: dict) -> Path:
        key = repr(sorted(answers.items()))
        if key not in baked:
            result = cookies_session.bake(
                extra_context=answers, template=str(TEMPLATE_DIR)
            )
            assert result.exit_code == 0, result.exception
            baked[key] = result.project_path
            BAKED_FILES[result.project_path] = sorted(
                path for path in result.project_path.rglob("*") if path.is_file()
            )
        return baked[key]

    return bake


# The integration package's tests live in the template repository; they run
# in a baked project, copied into its package.
PACKAGE_TESTS = TEMPLATE_DIR / "package" / "tests"
PACKAGE_TESTS_IN_PROJECT = "django_temporal_bridge/tests"
# The example's failure drills (example/tests/README.md).
EXAMPLE_TESTS = TEMPLATE_DIR / "example" / "tests"
EXAMPLE_TESTS_IN_PROJECT = "temporal_app/tests"


def with_upstream_tests(project: Path, tmp_path: Path) -> Path:
    """A copy of the baked `project` with the tests that live in the
    template: the package's in its package, the example's beside its own."""
    copy = tmp_path / project.name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PACKAGE_TESTS, copy / PACKAGE_TESTS_IN_PROJECT)
    shutil.copytree(
        EXAMPLE_TESTS,
        copy / EXAMPLE_TESTS_IN_PROJECT,
        ignore=shutil.ignore_patterns("*.md", "__pycache__"),
        dirs_exist_ok=True,
    )
    return copy


@functools.cache  # a bake's files never change in a run
def locked_requirements(project: Path) -> list[str]:
    """Every package a generated project's uv.lock pins (runtime and dev), as
    requirements: what `make install` installs, offline."""
    exported = subprocess.run(
        [uv.find_uv_bin(), "export", "--frozen", "--all-groups", "--no-emit-project",
         "--no-hashes", "--no-header", "--no-annotate"],
        cwd=project, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return [line for line in exported.splitlines() if line.strip()]


@contextlib.contextmanager
def file_lock(path: Path):
    """One xdist worker builds while the others wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def locked_venv(project: Path, python: str) -> Path:
    """A virtualenv of `python` with what `project`'s uv.lock pins, built once
    per lock and Python and reused by later runs."""
    requirements = locked_requirements(project)
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    key = hashlib.sha256("\n".join([version, *requirements]).encode()).hexdigest()
    venv = CACHE_DIR / f"venv-{key[:16]}"
    with file_lock(CACHE_DIR / f"venv-{key[:16]}.lock"):
        if not (venv / "ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            uv_bin = uv.find_uv_bin()
            subprocess.run(
                [uv_bin, "venv", "--quiet", "--python", python, venv],
                check=True,
                timeout=120,
            )
            subprocess.run(
                [uv_bin, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
                 "--no-deps", *requirements],  # the lock lists them all
                check=True, timeout=900,  # downloads, on a cold machine
            )  # fmt: skip
            (venv / "ready").touch()
    return venv


@pytest.fixture(scope="session")
def generated_venv(bake) -> Path:
    """Every generated project's dependencies, as uv.lock pins them (the bake
    with every optional package: each combination's lock is a part of its
    lock), on the Python that runs this suite."""
    if sys.version_info < (3, 12):  # noqa: UP036 (clear message for older Pythons)
        pytest.fail("Generated projects need Python >= 3.12; run the suite with it")
    return locked_venv(bake(ALL_PACKAGES_ANSWERS), sys.executable)


def python_3_12() -> str | None:
    """A Python 3.12 of this machine: on PATH, or one that pyenv installed."""
    candidates = [shutil.which("python3.12")]
    candidates += sorted(
        map(str, Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")), reverse=True
    )
    for python in filter(None, candidates):
        found = subprocess.run(
            [python, "--version"], capture_output=True, text=True, timeout=30
        )
        if found.returncode == 0 and found.stdout.startswith("Python 3.12"):
            return python
    return None


def postgres_bindir() -> Path | None:
    """Where the machine's PostgreSQL server binaries are (initdb, pg_ctl)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.insert(0, Path(initdb).resolve().parent)
    return next((path for path in candidates if (path / "pg_ctl").exists()), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """postgres://… of a throwaway cluster on a free port, removed afterwards.

    PostgreSQL refuses to run as root, so as root the cluster runs as the
    `postgres` system user, in a directory it owns.
    """
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found")
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    cluster = Path(tempfile.mkdtemp(prefix="template-tests-pg-"))
    if as_root:
        shutil.chown(cluster, "postgres")
    data, port = cluster / "data", free_port()

    def pg(*args: str) -> None:
        subprocess.run([*run_as, *args], check=True, capture_output=True)

    pg(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    options = f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
       str(cluster / "log"), "-w", "start")  # fmt: skip
    try:
        yield f"postgres://postgres@127.0.0.1:{port}"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(cluster, ignore_errors=True)


def run_in(project: Path, venv: Path, *args: str, **env: str):
    """Run a command of the generated project in the virtualenv `venv`."""
    return subprocess.run(
        args,
        cwd=project,
        env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=900,  # a hung generated suite fails instead of hanging
    )


def run_pytest_in(project: Path, venv: Path, *args: str, **env: str):
    """Run the generated project's own tests (pytest's arguments `args`)."""
    return run_in(
        project, venv, "python", "-m", "pytest", "-p", "no:cacheprovider", *args, **env
    )


def check_jsonschema(schema: str, path: Path) -> tuple[int, str]:
    """check-jsonschema --builtin-schema `schema` `path`: its exit code and
    output. Run in this process: the command takes a second to start, and
    each combination's files are checked."""
    result = CliRunner().invoke(
        check_jsonschema_cli, ["--builtin-schema", schema, str(path)]
    )
    return result.exit_code, result.output


def output(result: subprocess.CompletedProcess) -> str:
    return (result.stdout[-6000:] + "\n" + result.stderr[-6000:]).strip()


# The longest tests (seconds on 2 cores, from --durations) start first, so
# that the two xdist workers finish together instead of one running a long
# test alone at the end: xdist hands tests out in collection order, one at a
# time (--maxschedchunk=1 in pyproject.toml).
LONGEST_FIRST = [
    "test_compose_stack.py::test_compose_stack_runs",  # 75; 2 min, images cold
    "test_generated_test_suite_passes[database=postgresql]",  # 120
    "test_generated_test_suite_passes[defaults]",  # 95
    "test_screenshots.py::",  # 40
    "test_copier_copy_writes_the_files",  # 30
    "test_copier_update_applies_each_option_change",  # 25
    "test_generated_test_suite_passes[",  # 20 to 30 each
    "test_hostile_answers.py::",  # up to 25
    "test_a_sentry_bake_reports_errors_and_refuses_a_bad_dsn",  # 15
    "test_tasks.py::",  # 17
]


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        matches = (i for i, name in enumerate(LONGEST_FIRST) if name in item.nodeid)
        return next(matches, len(LONGEST_FIRST))

    items.sort(key=rank)


# Set when the suite started the Docker engine, so that the run stops it.
ENGINE_STARTED_BY_TESTS = engine.RUN_DIR / "started-by-tests"


@pytest.fixture(scope="session")
def docker_engine():
    """The template's own Docker engine (scripts/compose_smoke/engine.py).

    Started once for the run if it does not answer, and stopped when the run
    ends (pytest_sessionfinish). Without Debian's docker.io the Compose tests
    skip, except in CI (.ci/run sets CI), where they must run.
    """
    with file_lock(CACHE_DIR / "docker-engine.lock"):
        try:
            if engine.start():
                # The run's own process: a second run at the same time (of a
                # few tests, say) must not stop this run's engine.
                controller = (
                    os.getppid() if "PYTEST_XDIST_WORKER" in os.environ else os.getpid()
                )
                ENGINE_STARTED_BY_TESTS.write_text(str(controller))
        except engine.EngineError as error:
            if os.environ.get("CI"):
                pytest.fail(str(error))
            pytest.skip(str(error))


def pytest_sessionfinish(session):
    # Once, in the process that ran or distributed the tests (not per worker).
    if hasattr(session.config, "workerinput") or not ENGINE_STARTED_BY_TESTS.exists():
        return
    if ENGINE_STARTED_BY_TESTS.read_text() == str(os.getpid()):
        engine.stop()
        ENGINE_STARTED_BY_TESTS.unlink()
