"""Settings shared by every environment, read from the environment.

Values come from environment variables, and from a `.env` file in the project
root when there is one (see `.env.example` for every variable).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Variables already set in the environment win over the .env file. Tests never
# read it: a developer's own configuration must not change what they test.
if env.bool(
    "DJANGO_READ_DOT_ENV_FILE",
    default=env("DJANGO_SETTINGS_MODULE", default="") != "config.settings.test",
):
    env.read_env(BASE_DIR / ".env")

# General
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
TIME_ZONE = {{ cookiecutter.timezone|quoted }}
LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

# Databases
# ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db(
        "DATABASE_URL",
{%- if cookiecutter.database == "postgresql" %}
        default="postgres:///{{ cookiecutter.project_slug }}",
{%- else %}
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
{%- endif %}
    ),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
{%- if cookiecutter.database == "sqlite" %}
# SQLite serves the web process and the worker at once: write-ahead logging
# lets readers and a writer work together, and IMMEDIATE transactions wait
# for the write lock instead of failing with "database is locked".
DATABASES["default"]["OPTIONS"] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
{%- else %}
# The web process may keep a connection for CONN_MAX_AGE seconds (checked
# before reuse); the worker closes each activity's connection when the
# activity ends (temporal_app.core.interceptors). An unreachable server fails a
# connection attempt after 10 s rather than hanging it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"] = {"connect_timeout": 10}
{%- endif %}

# URLs and apps
# ------------------------------------------------------------------------------
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "apps.users",
    "temporal_app",
]

# Authentication
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# URL names: after signing up or logging in, a user sees their onboarding.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "onboarding-status"
LOGOUT_REDIRECT_URL = "home"

# Middleware, templates and static files
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # Answers GET /healthz before host validation and the HTTPS redirect
    # (probes send an IP as the host, over plain HTTP): see config/health.py.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files the project writes (the users' CSV exports, say). The web process and
# the worker must see the same storage: on several machines, point STORAGES
# at a shared one (an S3 bucket through django-storages, say).
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"


# Email
# ------------------------------------------------------------------------------
def mailer(backend: str) -> dict:
    """A MAILERS entry for one of Django's email backends, options from the env."""
    options = {}
    if backend == "django.core.mail.backends.smtp.EmailBackend":
        options = {
            "host": env("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=25),
            "username": env("EMAIL_HOST_USER", default=""),
            "password": env("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=False),
            # Seconds each step of the SMTP exchange may take: without it a
            # hung mail server holds the worker's thread forever.
            "timeout": env.float("EMAIL_TIMEOUT", default=10.0),
        }
    elif backend == "django.core.mail.backends.filebased.EmailBackend":
        options = {
            "file_path": env("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent_emails"))
        }
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {
    "default": mailer(
        env(
            "DJANGO_EMAIL_BACKEND",
            default="django.core.mail.backends.smtp.EmailBackend",
        )
    )
}
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="noreply@example.com")

# Temporal
# ------------------------------------------------------------------------------
# Where the worker and the clients connect is not a Django setting: it comes
# from Temporal's own environment configuration, as for the Temporal CLI
# (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, or a
# TEMPORAL_PROFILE of a temporal.toml file); see temporal_app/core/config.py.
# The task queue the worker polls and Django starts the workflows on:
TEMPORAL_TASK_QUEUE = env(
    "TEMPORAL_TASK_QUEUE",
    default={{ cookiecutter.task_queue|quoted }},
)
# Django's client (views, signals, admin, commands): how long it may take to
# connect, and to answer each call once connected. Past either, the call
# raises TemporalUnavailable, so a signup never waits on Temporal for long.
TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS = env.float(
    "TEMPORAL_CLIENT_CONNECT_TIMEOUT_SECONDS", default=0.5
)
TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS = env.float(
    "TEMPORAL_CLIENT_RPC_TIMEOUT_SECONDS", default=0.4
)
# How long an admin page waits for Temporal in all (connecting included)
# before it shows what it has, and "unknown" or "unavailable" for the rest.
TEMPORAL_ADMIN_TIMEOUT_SECONDS = env.float(
    "TEMPORAL_ADMIN_TIMEOUT_SECONDS", default=1.0
)
# The worker: how many activities and workflow tasks run at once, and how
# long in-flight activities may take to finish after SIGTERM before they are
# cancelled. Each running activity may hold a database connection: worker
# replicas x activities, plus the web processes' connections, must stay below
# the database's limit (PostgreSQL's max_connections is 100 by default).
TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES = env.int(
    "TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES", default=20
)
TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS = env.int(
    "TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", default=100
)
TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS = env.float(
    "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS", default=30
)
# How long a workflow whose worker died waits before another worker takes it
# over: a worker keeps the workflows it ran in memory and gets their next
# tasks on a queue of its own, which Temporal gives up after this many seconds
# without a poll (10, the SDK's default). Shorter moves work off a crashed
# worker sooner; a busy worker that polls late then loses its cached workflows
# to others, which replay their histories.
TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS = env.float(
    "TEMPORAL_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS", default=10
)
# How long the worker keeps retrying its first connection (the server may
# still be starting, as with `make dev` or `docker compose up`).
TEMPORAL_CONNECT_TIMEOUT_SECONDS = env.float(
    "TEMPORAL_CONNECT_TIMEOUT_SECONDS", default=30
)
# host:port where the worker serves the SDK's Prometheus metrics (/metrics);
# empty: no metrics endpoint.
TEMPORAL_METRICS_BIND_ADDRESS = env("TEMPORAL_METRICS_BIND_ADDRESS", default="")
# host:port where the worker answers GET /livez and /readyz for Kubernetes'
# probes (temporal_app/core/health.py), e.g. 0.0.0.0:8081; empty: not served.
TEMPORAL_WORKER_HEALTH_BIND_ADDRESS = env(
    "TEMPORAL_WORKER_HEALTH_BIND_ADDRESS", default=""
)
# Worker versioning (docs: the versioning guide): the worker deployment this
# worker belongs to, and the build of the code it runs (the image tag, say).
# With both set, Temporal routes each workflow to the build that its
# versioning behaviour (@workflow.defn(versioning_behavior=...)) says, and a
# deploy becomes a rollout that an operator can ramp and roll back; both
# empty: an unversioned worker, which runs whatever reaches its task queue.
TEMPORAL_WORKER_DEPLOYMENT_NAME = env("TEMPORAL_WORKER_DEPLOYMENT_NAME", default="")
TEMPORAL_WORKER_BUILD_ID = env("TEMPORAL_WORKER_BUILD_ID", default="")
# Start the user_onboarding workflow when a user is created (after commit).
TEMPORAL_START_ONBOARDING_ON_SIGNUP = env.bool(
    "TEMPORAL_START_ONBOARDING_ON_SIGNUP", default=True
)
# How often the reconcile-onboarding schedule starts onboarding for users who
# should have it and do not (signed up while Temporal was down). Declared in
# temporal_app/schedules.py; `manage.py sync_temporal_schedules` applies it.
TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS = env.int(
    "TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS", default=300
)
# Background tasks: Django's task framework (`@task` ... `.enqueue()`) runs
# them on the Temporal worker (temporal_app/core/tasks.py). The "default"
# queue is TEMPORAL_TASK_QUEUE; any other queue listed here is a Temporal task
# queue of that name, served by `run_temporal_worker --task-queue <name>`.
# A task is tried MAX_ATTEMPTS times in all, each attempt for at most
# TIMEOUT_SECONDS; `@task(max_attempts=..., timeout=...)` overrides them.
TASKS = {
    "default": {
        "BACKEND": "temporal_app.core.tasks.TemporalTaskBackend",
        "QUEUES": ["default"],
        "OPTIONS": {"MAX_ATTEMPTS": 3, "TIMEOUT_SECONDS": 300},
    }
}
# Where people look at workflows: management commands print links into it.
TEMPORAL_UI_URL = env("TEMPORAL_UI_URL", default="http://localhost:8080")
# Payload encryption (temporal_app/core/encryption.py): with keys set, what
# Temporal stores of inputs, results, memos and failures is AES-256-GCM
# ciphertext, so user data (an onboarding's email address and name) never
# sits in plain text in its histories. Comma-separated key_id:base64-key
# entries (secret; empty: no encryption). New payloads use the key of
# TEMPORAL_PAYLOAD_KEY_ID (default: the first entry); keep old keys for as
# long as histories written with them are kept. The Web UI decodes them
# through Django's /temporal-codec/ endpoint, for staff users, from the
# origin of TEMPORAL_UI_URL only. See docs: payload encryption.
TEMPORAL_PAYLOAD_KEYS = env("TEMPORAL_PAYLOAD_KEYS", default="")
TEMPORAL_PAYLOAD_KEY_ID = env("TEMPORAL_PAYLOAD_KEY_ID", default="")
# The session cookie's SameSite: Lax sends it to the codec endpoint from a
# Web UI on the same site (another port or subdomain); a UI on another site
# (Temporal Cloud's) needs None, which browsers take over HTTPS only.
SESSION_COOKIE_SAMESITE = env("DJANGO_SESSION_COOKIE_SAMESITE", default="Lax")

{%- if cookiecutter.use_sentry %}

# Sentry
# ------------------------------------------------------------------------------
# Errors of the web process and the worker go to the Sentry project of this
# DSN (a secret: from the environment only); empty, Sentry is not initialised.
# The local and production settings call config.sentry.init_sentry().
SENTRY_DSN = env("SENTRY_DSN", default="")
# Which deployment an event comes from (Sentry says "production" when empty).
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="")
{%- endif %}

# Logging
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {
            "format": "%(asctime)s %(levelname)-8s %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "console"},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own console handler would print its messages a second time.
    "loggers": {"django": {"handlers": ["console"], "propagate": False}},
}
