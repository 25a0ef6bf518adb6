"""Both Makefiles (the template's and the generated project's) find a
Python >= 3.12 when `python3` is older: on PATH first, else the newest that
pyenv installed, else one that uv knows."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import uv
from conftest import TEMPLATE_DIR

# The real interpreter that runs this suite (>= 3.12), wherever it lives.
NEW_PYTHON = Path(sys.executable).resolve()


def old_python() -> Path | None:
    """A real Python < 3.12 on this machine (Debian's python3 is 3.11)."""
    candidates = [shutil.which("python3", path="/usr/bin:/bin"), "/usr/bin/python3.11"]
    for candidate in filter(None, candidates):
        checked = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info >= (3, 12))"]
        )
        if checked.returncode == 0:
            return Path(candidate)
    return None


def link(path: Path, target: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


@pytest.fixture
def machine(tmp_path) -> dict:
    """PATH has an old python3 and the tools the Makefiles call; pyenv's and
    uv's Python directories are empty until a case fills them."""
    old = old_python()
    if old is None:
        pytest.skip("no Python < 3.12 on this machine to stand for an old python3")
    bin_dir = tmp_path / "bin"
    link(bin_dir / "python3", old)
    for tool in ("ls", "sort", "echo", "make"):
        link(bin_dir / tool, Path(shutil.which(tool)))
    return {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(tmp_path / "pyenv"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-pythons"),
        "tmp": tmp_path,
    }


def chosen_python(makefile: Path, machine: dict) -> str:
    env = {key: value for key, value in machine.items() if key != "tmp"}
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "-f", makefile,
         "--eval", "print-python: ; @echo $(PYTHON)", "print-python"],
        cwd=machine["tmp"], env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(params=["template", "generated"])
def makefile(request, bake) -> Path:
    if request.param == "template":
        return TEMPLATE_DIR / "Makefile"
    return bake({}) / "Makefile"


def test_pyenv_s_newest_python_when_python3_is_old(makefile, machine):
    pyenv = Path(machine["PYENV_ROOT"]) / "versions"
    link(pyenv / "3.11.9" / "bin" / "python3", Path(old_python()))
    newest = link(pyenv / "3.13.0" / "bin" / "python3", NEW_PYTHON)
    link(pyenv / "3.12.4" / "bin" / "python3", NEW_PYTHON)

    assert chosen_python(makefile, machine) == str(newest)


def test_a_python_that_uv_installed_when_pyenv_has_none(makefile, machine):
    link(Path(machine["PATH"]) / "uv", Path(uv.find_uv_bin()))
    managed = Path(machine["UV_PYTHON_INSTALL_DIR"]) / "cpython-3.13.0-linux-x86_64-gnu"
    python = link(managed / "bin" / "python3.13", NEW_PYTHON)
    link(managed / "bin" / "python3", Path("python3.13"))

    assert chosen_python(makefile, machine) == str(python)


def test_none_found_is_a_clear_error(makefile, machine):
    assert chosen_python(makefile, machine) == ""
    env = {key: value for key, value in machine.items() if key != "tmp"}
    project = machine["tmp"] / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        if (makefile.parent / name).exists():  # the template has no lock
            shutil.copy(makefile.parent / name, project)

    result = subprocess.run(["make", "install"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip

    assert result.returncode != 0
    assert "Python >= 3.12 not found (on PATH, under pyenv or uv)" in result.stderr
    assert not (project / ".venv").exists()


def test_install_bootstraps_the_test_group_s_uv_with_pip_s_index(tmp_path):
    """`make install` pip-installs the uv that pyproject.toml's test group
    requires (no second copy of its pin), then hands pip's index to uv."""
    with open(TEMPLATE_DIR / "pyproject.toml", "rb") as f:
        group = tomllib.load(f)["dependency-groups"]["test"]
    pins = [r for r in group if isinstance(r, str) and r.startswith("uv")]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path), "PIP_INDEX_URL": "https://index.example/simple"}  # fmt: skip

    result = subprocess.run(
        ["make", "--no-print-directory", "-s", f"BIN={Path(sys.executable).parent}",
         "--eval", 'print-bootstrap: ; @$(UV_REQUIREMENT); $(call PIP_SETTING,index-url)',
         "print-bootstrap"],
        cwd=TEMPLATE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [*pins, "https://index.example/simple"]
