from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from config.health import healthz

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("", include("apps.users.urls")),
    path("", include("temporal_app.urls")),
    path("admin/", admin.site.urls),
    # Answered by config.health.HealthCheckMiddleware first (see there).
    path("healthz", healthz, name="healthz"),
]
