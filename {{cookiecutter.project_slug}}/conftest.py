"""Fixtures of the project's tests. The Temporal ones (test servers, the
project pointed at one) come from the django_temporal_bridge package."""

import pytest
from django.core.cache import cache
{%- if cookiecutter.example_workflows %}

from temporal_app.search_attributes import SEARCH_ATTRIBUTES
{%- endif %}

pytest_plugins = ["django_temporal_bridge.fixtures"]
{%- if cookiecutter.example_workflows %}


def pytest_addoption(parser):
    parser.addoption(
        "--record-histories",
        action="store_true",
        help="Record the workflow histories of the replay tests again.",
    )


@pytest.fixture(scope="session")
def temporal_search_attributes():
    """The example workflows' search attributes, on every test server."""
    return SEARCH_ATTRIBUTES
{%- endif %}


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: allauth's rate limits count there."""
    cache.clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        username="ada", email="ada@example.com", first_name="Ada", last_name="Lovelace"
    )
