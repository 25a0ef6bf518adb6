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
# activity ends (django_temporal_bridge.interceptors). An unreachable server fails a
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
    "django_temporal_bridge",
    # Your stuff: your apps
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
{%- if cookiecutter.example_workflows %}
# URL names: after signing up or logging in, a user sees their onboarding.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "onboarding-status"
{%- else %}
# URL names of the pages before and after logging in.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
{%- endif %}
LOGOUT_REDIRECT_URL = "home"

# Middleware, templates and static files
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # Answers GET /healthz before host validation and the HTTPS redirect
    # (probes send an IP as the host, over plain HTTP).
    "django_temporal_bridge.health.HealthCheckMiddleware",
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
# Where clients connect comes from Temporal's own environment configuration,
# as for the Temporal CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
# TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE). Every other TEMPORAL_*
# setting has its default in django_temporal_bridge/conf.py and can be set
# here or in the environment (the docs' package page lists them).
TEMPORAL_TASK_QUEUE = env(
    "TEMPORAL_TASK_QUEUE",
    default={{ cookiecutter.task_queue|quoted }},
)
# Background tasks: Django's task framework (`@task` ... `.enqueue()`) runs
# them on the Temporal worker; a task is tried MAX_ATTEMPTS times, each for at
# most TIMEOUT_SECONDS (docs: the tasks guide).
TASKS = {
    "default": {
        "BACKEND": "django_temporal_bridge.tasks.TemporalTaskBackend",
        "QUEUES": ["default"],
        "OPTIONS": {"MAX_ATTEMPTS": 3, "TIMEOUT_SECONDS": 300},
    }
}
# The session cookie's SameSite: a Temporal Web UI on another site that
# decodes payloads through /temporal-codec/ needs None (HTTPS only).
SESSION_COOKIE_SAMESITE = env("DJANGO_SESSION_COOKIE_SAMESITE", default="Lax")
{%- if cookiecutter.example_workflows %}

# The example workflows (temporal_app)
# ------------------------------------------------------------------------------
# Start the user_onboarding workflow when a user is created (after commit),
# and how often the reconcile-onboarding schedule catches up the users who
# have none (signed up while Temporal was down).
TEMPORAL_START_ONBOARDING_ON_SIGNUP = env.bool(
    "TEMPORAL_START_ONBOARDING_ON_SIGNUP", default=True
)
TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS = env.int(
    "TEMPORAL_RECONCILE_ONBOARDING_INTERVAL_SECONDS", default=300
)
{%- endif %}

# Your stuff: settings of your own apps
# ------------------------------------------------------------------------------
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
