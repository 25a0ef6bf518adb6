"""The integration package, django_temporal_bridge, builds as a wheel from
the template repository (package/pyproject.toml): its code, migrations and
management commands, and none of its tests."""

import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from email.parser import Parser

import pytest
import uv
from conftest import PACKAGE_TESTS, TEMPLATE_DIR

SOURCE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "django_temporal_bridge"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Iterator[zipfile.ZipFile]:
    """The wheel `uv build` makes of package/, from a copy of the template
    whose package holds its tests, as when the suite runs them."""
    copy = tmp_path_factory.mktemp("template")
    package, bridge = copy / "package", copy / SOURCE.relative_to(TEMPLATE_DIR)
    shutil.copytree(TEMPLATE_DIR / "package", package)
    shutil.copytree(SOURCE, bridge)
    shutil.copytree(PACKAGE_TESTS, bridge / "tests")
    dist = copy / "dist"
    uv_bin = uv.find_uv_bin()
    subprocess.run(
        [uv_bin, "build", "-q", "--wheel", "-o", dist, package], check=True, timeout=300
    )
    [path] = dist.glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_wheel_is_named_and_versioned_after_the_package(wheel):
    """Its metadata: django-temporal-bridge, at the package's __version__."""
    init = (SOURCE / "__init__.py").read_text()
    version = re.search(r"^__version__ = ['\"](.+)['\"]$", init, re.MULTILINE).group(1)
    [metadata] = [name for name in wheel.namelist() if name.endswith("/METADATA")]
    headers = Parser().parsestr(wheel.read(metadata).decode())
    assert (headers["Name"], headers["Version"]) == ("django-temporal-bridge", version)


def test_the_wheel_holds_every_module_and_no_test(wheel):
    """Every module, migrations and commands included; no tests, no caches."""
    names = set(wheel.namelist())
    modules = {
        f"django_temporal_bridge/{path.relative_to(SOURCE).as_posix()}"
        for path in SOURCE.rglob("*.py")
        if "tests" not in path.relative_to(SOURCE).parts
    }
    assert not modules - names  # the missing ones
    assert "django_temporal_bridge/migrations/0001_initial.py" in names
    assert any(
        name.startswith("django_temporal_bridge/management/commands/")
        and not name.endswith("__init__.py")
        for name in names
    )
    assert not [
        name for name in names if {"tests", "__pycache__"} & set(name.split("/"))
    ]
