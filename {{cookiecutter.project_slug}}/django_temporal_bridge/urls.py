"""The package's endpoints; the project includes them at its root."""

from django.urls import path

from . import codec, health

urlpatterns = [
    # Answered first by health.HealthCheckMiddleware (see there); this URL
    # serves reverse("healthz") and a stack without the middleware.
    path("healthz", health.healthz, name="healthz"),
    # The Temporal Web UI's codec endpoint: <Django's URL>/temporal-codec
    path("temporal-codec/decode", codec.decode, name="temporal-codec-decode"),
    path("temporal-codec/encode", codec.encode, name="temporal-codec-encode"),
]
