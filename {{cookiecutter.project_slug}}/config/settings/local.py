"""Settings for development on your machine (`make dev`)."""

from .base import *  # noqa: F403
from .base import env, mailer

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# `make install` writes a fresh key into the git-ignored .env file.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "0.0.0.0"]
)

# Emails go to the console unless DJANGO_EMAIL_BACKEND says otherwise.
MAILERS = {
    "default": mailer(
        env(
            "DJANGO_EMAIL_BACKEND",
            default="django.core.mail.backends.console.EmailBackend",
        )
    )
}
