from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    # Sign-up, login, password reset, email verification (django-allauth)
    path("accounts/", include("allauth.urls")),
    # /healthz and /temporal-codec/ (django_temporal_bridge/urls.py)
    path("", include("django_temporal_bridge.urls")),
    # Your stuff: your apps' URLs (/signup/ and /login/ lead to the accounts')
    path("", include("apps.users.urls")),
{%- if cookiecutter.example_workflows %}
    path("", include("temporal_app.urls")),
{%- endif %}
]
