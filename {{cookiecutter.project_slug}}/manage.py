#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> int | str | None:
    """Run the command; return its exit code."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except SystemExit as exit:
        return exit.code
    return 0


if __name__ == "__main__":
    code = main()
    # A command that used Temporal's SDK ends without the interpreter's
    # teardown, which the SDK's native threads can crash (see exit_now).
    temporal = sys.modules.get("django_temporal_bridge.client")
    if temporal is not None and temporal.sdk_used():
        temporal.exit_now(code)
    sys.exit(code)
