"""Django and Temporal, bridged: the shared client, the worker, the
`django.tasks` backend, schedules declared in code, payload encryption,
health probes and the testing fixtures. README.md tells what is where.

It imports nothing of the project that installs it: the project configures
it, through its settings (conf.py) and its apps' workflows.py,
activities.py and schedules.py.
"""

__version__ = "0.1.0"
