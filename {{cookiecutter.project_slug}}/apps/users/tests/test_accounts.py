"""Accounts on django-allauth, as the project configures it: sign-up with a
confirmed address, one account per address, throttled logins, password
reset by email (through Django's file email backend, as a deployer's would)."""

import email
import re
from email import policy
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.users.apps import create_cache_tables
from apps.users.models import User
from django_temporal_bridge.testing import free_port

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase"
LINK = re.compile(r"https?://testserver(/accounts/\S+/)")


@pytest.fixture
def outbox(settings, tmp_path) -> Path:
    """Where the emails go: Django's file backend writes them to this folder."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    return tmp_path


def links_mailed_to(outbox: Path, address: str) -> list[str]:
    """The links in the emails to `address`, as the file backend wrote them."""
    links = []
    for path in sorted(outbox.glob("*.log")):
        for raw in path.read_bytes().split(b"-" * 79):  # the file's separator
            message = email.message_from_bytes(raw.strip(), policy=policy.default)
            if message["To"] == address and (body := message.get_body(("plain",))):
                links += LINK.findall(body.get_content())
    return links


@pytest.fixture
def confirmed_user(user):
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True)
    return user


SIGNUP = {
    "username": "grace",
    "email": "grace@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def sign_up(client, **overrides):
    return client.post(reverse("account_signup"), {**SIGNUP, **overrides})


def log_in(client, login: str, password: str):
    return client.post(reverse("account_login"), {"login": login, "password": password})


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/signup/", "/accounts/signup/"),
        ("/login/?next=/admin/", "/accounts/login/?next=/admin/"),
    ],
    ids=["signup", "login-keeps-next"],
)
def test_the_short_addresses_lead_to_the_account_pages(client, path, target):
    response = client.get(path)

    assert (response.status_code, response.url) == (302, target)


def test_the_signup_form_carries_a_csrf_token_and_needs_it():
    client = Client(enforce_csrf_checks=True)

    page = client.get(reverse("account_signup"))
    refused = sign_up(client)

    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    assert refused.status_code == 403
    assert not User.objects.exists()


def test_the_pages_run_no_inline_code_but_their_own(client):
    page = client.get(reverse("account_signup"))

    header = page.headers["Content-Security-Policy"]
    [nonce] = re.findall(r"script-src 'self' 'nonce-([^']+)'", header)
    assert f'<style nonce="{nonce}">' in page.content.decode()


def test_a_signup_waits_for_the_address_then_the_link_confirms_and_logs_in(
    client, outbox, settings
):
    response = sign_up(client)

    user = User.objects.get()
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    [confirm_url] = links_mailed_to(outbox, "grace@example.com")
    assert client.get(confirm_url).status_code == 200  # asks; a POST confirms

    confirmed = client.post(confirm_url)

    assert confirmed.url == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified


def test_an_unconfirmed_user_cannot_log_in(client):
    sign_up(client)

    response = log_in(client, "grace", PASSWORD)

    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_a_second_account_for_an_address_in_other_case_is_refused(client):
    first = sign_up(client)

    second = sign_up(Client(), username="someone", email="Grace@EXAMPLE.com")

    assert list(User.objects.values_list("username", flat=True)) == ["grace"]
    # The second visitor learns nothing about the address (no enumeration).
    assert second.url == first.url == reverse("account_email_verification_sent")


@pytest.mark.parametrize(
    "username",
    ["verify.at.evil.example", "Your account is locked", "a--b", "x" * 41],
    ids=["domain", "sentence", "double-dash", "too-long"],
)
def test_a_username_that_is_not_a_name_is_refused(client, username):
    response = sign_up(client, username=username)

    assert "username" in response.context["form"].errors
    assert not User.objects.exists()


def test_repeated_failed_logins_are_throttled(client, confirmed_user):
    for _ in range(5):
        log_in(client, "ada", "wrong")

    response = log_in(client, "ada", PASSWORD)

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("login", ["ada", "ADA@example.com"], ids=["username", "email"])
def test_a_confirmed_user_logs_in_by_username_or_email(
    client, confirmed_user, settings, login
):
    response = log_in(client, login, PASSWORD)

    assert response.url == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(confirmed_user.pk)


def test_a_password_reset_works_end_to_end_by_email(
    client, confirmed_user, outbox, settings
):
    response = client.post(
        reverse("account_reset_password"), {"email": "ADA@Example.com"}
    )
    assert response.url == reverse("account_reset_password_done")
    [reset_url] = links_mailed_to(outbox, "ada@example.com")

    form = client.get(reset_url, follow=True)  # the key moves to the session
    new_password = "another-long-passphrase"
    done = client.post(
        form.redirect_chain[-1][0],
        {"password1": new_password, "password2": new_password},
    )

    assert done.url == reverse("account_reset_password_from_key_done")
    logged_in = log_in(client, "ada", new_password)
    assert logged_in.url == reverse(settings.LOGIN_REDIRECT_URL)


@pytest.mark.parametrize(
    ("page", "data"),
    [
        ("account_signup", SIGNUP),
        ("account_reset_password", {"email": "ada@example.com"}),
    ],
    ids=["signup", "password-reset"],
)
def test_with_the_mail_server_down_nothing_is_kept_until_it_is_back(
    client, confirmed_user, outbox, settings, page, data
):
    working = settings.MAILERS
    settings.MAILERS = {  # Django's SMTP backend; nothing listens on the port
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        }
    }
    users = list(User.objects.values_list("username", flat=True))

    refused = client.post(reverse(page), data)

    assert (refused.status_code, refused["Retry-After"]) == (503, "300")
    assert "try again in a few minutes" in refused.content.decode()
    assert list(User.objects.values_list("username", flat=True)) == users
    settings.MAILERS = working  # the mail server is back: the same post works
    assert client.post(reverse(page), data).status_code == 302
    assert links_mailed_to(outbox, data["email"])


@pytest.mark.parametrize(
    ("first_name", "username", "mail_name"),
    [
        ("Ada", "ada", "Ada Lovelace"),
        ("", "grace_h", "grace_h"),
        ("Your account is locked: verify at https://evil.example", "ada", "ada"),
        ("Ada", "verify.evil.example", "Ada Lovelace"),
        ("", "verify.evil.example", "there"),
        ("A" * 41, "", "there"),
    ],
    ids=["full-name", "username", "sentence", "domain-username", "nothing", "long"],
)
def test_emails_call_users_by_a_plain_name_only(first_name, username, mail_name):
    last_name = "Lovelace" if first_name == "Ada" else ""
    user = User(first_name=first_name, last_name=last_name, username=username)

    assert user.mail_name == mail_name


def test_migrate_creates_the_database_cache_table(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "test_rate_limits",
        }
    }

    create_cache_tables(using="default")

    assert "test_rate_limits" in connection.introspection.table_names()
