"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from django_temporal_bridge.tracing import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Before the middleware loads: the OTEL_* variables may ask for request spans.
configure_tracing("{{ cookiecutter.project_slug|replace('_', '-') }}-web")
application = get_wsgi_application()
