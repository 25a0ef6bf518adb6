"""Settings for production: everything sensitive comes from the environment."""

from django.core.exceptions import ImproperlyConfigured
{% if cookiecutter.use_sentry %}
from config.sentry import init_sentry
{% endif %}
from .base import *  # noqa: F403
from .base import env


def required(name: str, value):
    """A setting without default: missing or empty, Django stops, naming it."""
    if not value:
        raise ImproperlyConfigured(
            f"Set the {name} environment variable: the production settings "
            "have no default for it."
        )
    return value


SECRET_KEY = required("DJANGO_SECRET_KEY", env("DJANGO_SECRET_KEY", default=""))
ALLOWED_HOSTS = required(
    "DJANGO_ALLOWED_HOSTS", env.list("DJANGO_ALLOWED_HOSTS", default=[])
)

# Security: HTTPS everywhere.
# Behind a proxy that terminates TLS: the header it sets to "https" (and strips
# from clients), e.g. X-Forwarded-Proto. Unset: no header is trusted.
_proxy_ssl_header = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
    if _proxy_ssl_header
    else None
)
# Trust the proxy's X-Forwarded-Host for the request's host (off by default).
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Path regexes (no leading slash) still served over HTTP; /healthz needs none.
SECURE_REDIRECT_EXEMPT = env.list("DJANGO_SECURE_REDIRECT_EXEMPT", default=[])
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=True)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True

# Accounts: links in emails use https; rate limits count in a cache all
# processes share, a database table by default (`migrate` creates it).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="dbcache://django_cache")}
# Proxies in front that append the client's address to X-Forwarded-For (an
# ingress: 1); the rate limits count per client address, taken from there.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

# Static files: collected at build time, served by WhiteNoise.
MIDDLEWARE.insert(  # noqa: F405
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,  # noqa: F405
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# Logs: JSON lines, with Temporal's workflow and activity context.
LOGGING["formatters"]["console"] = {"()": "django_temporal_bridge.logs.JsonFormatter"}  # noqa: F405
{%- if cookiecutter.use_sentry %}

# Errors to Sentry when SENTRY_DSN is set (config/sentry.py).
init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT)  # noqa: F405
{%- endif %}
