"""Find the workflows and activities of every installed app.

As Django's admin finds each app's `admin.py`, the worker finds each app's
`workflows.py` and `activities.py`: every `@workflow.defn` class defined in
the first and every `@activity.defn` function defined in the second. So an
app adds a workflow without touching temporal_app. Only what a module defines
counts, not what it imports, so a workflow module that imports another app's
activities does not register them twice.
"""

from collections.abc import Callable
from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.utils.module_loading import module_has_submodule


def app_modules(name: str) -> list[ModuleType]:
    """Import the submodule `name` of every installed app that has one."""
    return [
        import_module(f"{app.name}.{name}")
        for app in apps.get_app_configs()
        if module_has_submodule(app.module, name)
    ]


def _defined(submodule: str, marker: str) -> list:
    """What the apps' `submodule`s define (not import) that carries the SDK's
    `marker`: its decorators leave their definition on what they decorate."""
    return [
        value
        for module in app_modules(submodule)
        for value in vars(module).values()
        if getattr(value, "__module__", None) == module.__name__
        and marker in vars(value)
    ]


def project_workflows() -> list[type]:
    """Every `@workflow.defn` class of the installed apps' workflows.py."""
    return _defined("workflows", "__temporal_workflow_definition")


def project_activities() -> list[Callable]:
    """Every `@activity.defn` function of the installed apps' activities.py."""
    return _defined("activities", "__temporal_activity_definition")
