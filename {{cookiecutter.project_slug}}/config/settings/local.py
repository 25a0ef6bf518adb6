"""Settings for development on your machine (`make dev`)."""
{% if cookiecutter.use_sentry %}
from config.sentry import init_sentry
{% endif %}
from .base import *  # noqa: F403
from .base import env, mailer

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# `make install` writes a fresh key into the git-ignored .env file.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "0.0.0.0"]
)

# Sign up and log in before confirming the address (the link is in the console).
ACCOUNT_EMAIL_VERIFICATION = env.str("DJANGO_ACCOUNT_EMAIL_VERIFICATION", "optional")

# Emails go to the console unless DJANGO_EMAIL_BACKEND says otherwise.
MAILERS = {
    "default": mailer(
        env(
            "DJANGO_EMAIL_BACKEND",
            default="django.core.mail.backends.console.EmailBackend",
        )
    )
}
{%- if cookiecutter.use_sentry %}

# Errors to Sentry when SENTRY_DSN is set (config/sentry.py).
init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT)  # noqa: F405
{%- endif %}
