"""Settings for the test suite (pytest uses them through `--ds`)."""

from .base import *  # noqa: F403
from .base import env, mailer

DEBUG = False
# A fixed key that is only ever used by tests: it protects nothing.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="tests-only-not-a-secret")
{%- if cookiecutter.database == "sqlite" %}
# In a file, not in memory: the integration tests' worker process uses it too.
DATABASES["default"]["TEST"] = {"NAME": BASE_DIR / ".test-db.sqlite3"}  # noqa: F405
{%- endif %}

# No email leaves a test, not even from a test's web or worker process, unless
# DJANGO_EMAIL_BACKEND names a backend (a file's, say).
MAILERS = {
    "default": mailer(
        env(
            "DJANGO_EMAIL_BACKEND",
            default="django.core.mail.backends.locmem.EmailBackend",
        )
    )
}

# Fast, and fine for tests that never store a real password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Not the development queue: a test never hands work to a `make dev` worker.
TEMPORAL_TASK_QUEUE = env("TEMPORAL_TASK_QUEUE", default="test-tasks")
# Generous for loaded machines; the tests of the bounds set their own.
TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = 10
TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = 10
TEMPORAL_CLIENT_START_TIMEOUT_SECONDS = 10
{%- if cookiecutter.use_sentry %}
# Nothing to Sentry, whatever the shell's SENTRY_DSN.
SENTRY_DSN = ""
{%- endif %}
{%- if cookiecutter.example_workflows %}
# Tests that create users start no workflow, unless they ask for it.
TEMPORAL_START_ONBOARDING_ON_SIGNUP = env.bool(
    "TEMPORAL_START_ONBOARDING_ON_SIGNUP", default=False
)
{%- endif %}
