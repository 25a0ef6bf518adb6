"""Hatchling build hook: puts the template's django_temporal_bridge (the
`source` of pyproject.toml, outside this directory) into the wheel, every file
but its tests and bytecode."""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIPPED_DIRECTORIES = {"tests", "__pycache__"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        source = (Path(self.root) / self.config["source"]).resolve()
        if not (source / "__init__.py").is_file():
            raise FileNotFoundError(f"No Python package at {source}")
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if (
                path.is_file()
                and not SKIPPED_DIRECTORIES.intersection(relative.parts)
                and path.suffix not in SKIPPED_SUFFIXES
            ):
                target = f"{source.name}/{relative.as_posix()}"
                build_data["force_include"][str(path)] = target
