"""Settings shared by every environment, from the environment (see .env.example)."""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# The environment wins over .env, which only the local settings read unless
# DJANGO_READ_DOT_ENV_FILE says otherwise: tests and production never see a
# developer's .env.
if env.bool(
    "DJANGO_READ_DOT_ENV_FILE",
    default=env("DJANGO_SETTINGS_MODULE", default="") == "config.settings.local",
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
# Web and worker share the file: WAL, and IMMEDIATE transactions that wait for
# the write lock rather than fail with "database is locked".
DATABASES["default"]["OPTIONS"] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
{%- else %}
# The worker closes each activity's connection itself; connect_timeout: an
# unreachable server fails the attempt rather than hang it.
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
    "allauth",
    "allauth.account",
    "django_temporal_bridge",
    # Your stuff: your apps
    "apps.users",
    "temporal_app",
]

# Authentication: accounts on django-allauth (sign-up, login, password reset,
# email verification, rate limits); docs: the accounts guide.
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
{%- if cookiecutter.example_workflows %}
# After logging in (or confirming their address), a user sees their onboarding.
LOGIN_REDIRECT_URL = "onboarding-status"
{%- else %}
LOGIN_REDIRECT_URL = "home"
{%- endif %}
LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "apps.users.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_USERNAME_VALIDATORS = "apps.users.models.SIGNUP_USERNAME_VALIDATORS"
# One account per address, whatever its case (allauth's default, said aloud).
ACCOUNT_UNIQUE_EMAIL = True
# "mandatory": no login, and no email of ours, before the address is confirmed.
ACCOUNT_EMAIL_VERIFICATION = env.str("DJANGO_ACCOUNT_EMAIL_VERIFICATION", "mandatory")
if ACCOUNT_EMAIL_VERIFICATION not in {"mandatory", "optional", "none"}:
    message = "DJANGO_ACCOUNT_EMAIL_VERIFICATION: use mandatory, optional or none"
    raise ImproperlyConfigured(message)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = {{ ("[" ~ cookiecutter.project_name ~ "] ")|quoted }}
# allauth's rate limits count in the cache (production's is shared: a table).
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}

# Middleware, templates and static files
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # Answers /healthz first: probes send an IP as the host, over plain HTTP.
    "django_temporal_bridge.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
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
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Content-Security-Policy (Django's own): scripts and styles from this site, or
# inline with the nonce of the response (templates: the csp_nonce variable).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Written by web and worker: on several machines, a shared STORAGES (S3, say).
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
            # Per SMTP step: a hung mail server must not hold a thread forever.
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
# Connection: TEMPORAL_ADDRESS etc., as for the Temporal CLI; other TEMPORAL_*
# settings default in django_temporal_bridge/conf.py (docs: the package page).
TEMPORAL_TASK_QUEUE = env(
    "TEMPORAL_TASK_QUEUE",
    default={{ cookiecutter.task_queue|quoted }},
)
# Django's @task, run on the Temporal worker (docs: the tasks guide).
TASKS = {
    "default": {
        "BACKEND": "django_temporal_bridge.tasks.TemporalTaskBackend",
        "QUEUES": ["default"],
        "OPTIONS": {"MAX_ATTEMPTS": 3, "TIMEOUT_SECONDS": 300},
    }
}
# None for a Web UI on another site decoding through /temporal-codec/ (HTTPS).
SESSION_COOKIE_SAMESITE = env("DJANGO_SESSION_COOKIE_SAMESITE", default="Lax")
{%- if cookiecutter.example_workflows %}

# The example workflows (temporal_app)
# ------------------------------------------------------------------------------
# Onboarding on signup, and how often the reconcile-onboarding schedule runs.
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
# Where errors go (a secret); empty: Sentry is off (docs: the observability guide).
SENTRY_DSN = env("SENTRY_DSN", default="")
# The deployment's name in Sentry (empty: "production").
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="")
{%- endif %}

# Logging
# ------------------------------------------------------------------------------
LOGGING: dict[str, Any] = {
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
    # Django's own console handler would print each message a second time.
    "loggers": {"django": {"handlers": ["console"], "propagate": False}},
}
