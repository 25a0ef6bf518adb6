"""A pytest plugin for a generated suite's second run, on another database:
it keeps only the tests that use the database, the others having run on the
first. pytest-django lets a test reach the database only through its
`django_db` mark or its database fixtures, so these are the tests whose
outcome can depend on it.

Some of them use the database only on the way to what they test (Temporal,
HTTP, processes): those in SAME_ON_EVERY_DATABASE run on the first database
only, to keep the template's suite within its time budget.
"""

DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}

# Node id prefixes. Their subject, and why the database does not change it:
SAME_ON_EVERY_DATABASE = (
    # trace ids across processes, spans exported over HTTP
    "django_temporal_bridge/tests/test_tracing.py",
    # the worker's probes over HTTP, from connecting to draining
    "django_temporal_bridge/tests/test_worker_health.py",
    # which worker build Temporal routes each run to
    "django_temporal_bridge/tests/test_versioning.py",
    # histories replayed from the server
    "django_temporal_bridge/tests/test_replay_command.py",
    # the bytes of payloads in Temporal's history
    "django_temporal_bridge/tests/test_payload_encryption.py",
    # Django 240 ms away from Temporal (example/tests/test_distance.py)
    "temporal_app/tests/test_distance.py",
    # a killed worker's workflow taken over (the three-worker test kills one
    # on this database too), a Temporal server restarted, the SDK's logging
    # and exit
    "django_temporal_bridge/tests/test_resilience.py::test_a_killed_worker_is_replaced",
    "django_temporal_bridge/tests/test_resilience.py::test_running_workflows_resume_after",
    "django_temporal_bridge/tests/test_resilience.py::test_the_sdk_core_logs_through",
    "django_temporal_bridge/tests/test_resilience.py::test_a_command_that_used_temporal",
)


def runs_again(item) -> bool:
    uses_the_database = item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )
    return uses_the_database and not item.nodeid.startswith(SAME_ON_EVERY_DATABASE)


def pytest_collection_modifyitems(config, items):
    others = [item for item in items if not runs_again(item)]
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = [item for item in items if runs_again(item)]
