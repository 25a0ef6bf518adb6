from django.urls import path

from . import views

urlpatterns = [
    path("onboarding/", views.onboarding_status, name="onboarding-status"),
    path(
        "onboarding/status.json",
        views.onboarding_status_json,
        name="onboarding-status-json",
    ),
]
