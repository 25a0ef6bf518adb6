from django.urls import path

from . import views
from .core import codec_server

urlpatterns = [
    path("onboarding/", views.onboarding_status, name="onboarding-status"),
    path(
        "onboarding/status.json",
        views.onboarding_status_json,
        name="onboarding-status-json",
    ),
    # The Temporal Web UI's codec endpoint: set it to <Django's URL>/temporal-codec
    path("temporal-codec/decode", codec_server.decode, name="temporal-codec-decode"),
    path("temporal-codec/encode", codec_server.encode, name="temporal-codec-encode"),
]
