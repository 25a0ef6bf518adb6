"""The signup page: Django's auth forms on the project's User model."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from apps.users.forms import SignupForm
from apps.users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase"


def signup_data(**overrides) -> dict:
    return {
        "username": "grace",
        "email": "grace@example.com",
        "first_name": "Grace",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def test_the_signup_form_carries_a_csrf_token_and_needs_it():
    client = Client(enforce_csrf_checks=True)

    page = client.get("/signup/")
    refused = client.post("/signup/", signup_data())

    assert page.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    assert refused.status_code == 403
    assert not User.objects.exists()


def test_mismatched_passwords_are_shown_next_to_the_field_and_create_nobody(client):
    response = client.post("/signup/", signup_data(password2="something-else-entirely"))

    mismatch = str(SignupForm.error_messages["password_mismatch"])
    assert response.status_code == 200
    assert response.context["form"].errors == {"password2": [mismatch]}
    assert escape(mismatch) in response.content.decode()
    assert not User.objects.exists()


def test_an_email_address_is_required(client):
    response = client.post("/signup/", signup_data(email=""))

    assert response.context["form"].errors == {"email": ["This field is required."]}
    assert not User.objects.exists()


def test_a_valid_signup_creates_the_user_signs_them_in_and_redirects(client):
    response = client.post("/signup/", signup_data())

    user = User.objects.get()
    assert (user.username, user.email, user.first_name) == (
        "grace",
        "grace@example.com",
        "Grace",
    )
    assert user.check_password(PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_signed_in_user_is_sent_on_from_the_signup_page(client, user):
    client.force_login(user)

    response = client.get("/signup/")

    assert response.status_code == 302
    assert response.url == reverse(settings.LOGIN_REDIRECT_URL)


def test_a_returning_user_logs_in_on_the_login_page(client, user):
    user.set_password(PASSWORD)
    user.save()

    response = client.post("/login/", {"username": "ada", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(user.pk)
