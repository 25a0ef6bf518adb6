from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect
from django.views.generic import CreateView

from .forms import SignupForm


class SignupView(CreateView):
    """Create an account and sign its user in (other apps hook post_save)."""

    form_class = SignupForm
    template_name = "registration/signup.html"

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.save()
        login(self.request, user)
        return redirect(settings.LOGIN_REDIRECT_URL)
