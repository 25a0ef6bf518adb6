from django.contrib.auth.forms import UserCreationForm

from .models import User


class SignupForm(UserCreationForm):
    """Create an account, with the email address the workflows write to."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email", "first_name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
