"""The account pages are django-allauth's, under /accounts/ (config/urls.py);
the short addresses of sign-up and login lead there (with their ?next=)."""

from django.urls import path
from django.views.generic import RedirectView


def to(name: str):
    return RedirectView.as_view(pattern_name=name, query_string=True)


urlpatterns = [
    path("signup/", to("account_signup"), name="signup"),
    path("login/", to("account_login"), name="login"),
]
