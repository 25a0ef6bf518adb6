"""A pytest plugin for a generated suite's second run, on another database:
it keeps only the tests that use the database, the others having run on the
first. pytest-django lets a test reach the database only through its
`django_db` mark or its database fixtures, so these are the tests whose
outcome can depend on it."""

DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def uses_the_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config, items):
    others = [item for item in items if not uses_the_database(item)]
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = [item for item in items if uses_the_database(item)]
