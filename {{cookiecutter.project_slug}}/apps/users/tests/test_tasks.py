"""The users' CSV export, as the worker runs it (the task's own code; the
integration package's tests run tasks on a real Temporal worker)."""

import csv

import pytest
from django.core.files.storage import default_storage

from apps.users.tasks import EXPORT_FIELDS, export_users_csv

pytestmark = pytest.mark.django_db


def test_the_export_writes_the_given_users_to_a_csv_file(
    django_user_model, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ada = django_user_model.objects.create(username="ada", email="ada@example.com")
    django_user_model.objects.create(username="bob", email="bob@example.com")

    result = export_users_csv.call([ada.pk, 999_999])

    assert result["rows"] == 1
    assert result["file"].startswith("exports/users-")
    with default_storage.open(result["file"], "r") as export:
        rows = list(csv.reader(export))
    assert rows[0] == EXPORT_FIELDS
    assert rows[1][:3] == [str(ada.pk), "ada", "ada@example.com"]
    assert len(rows) == 2


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(
    django_user_model, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    name = '=HYPERLINK("https://evil.example.com","Your account is locked")'
    user = django_user_model.objects.create(username="mallory", first_name=name)

    result = export_users_csv.call([user.pk])

    with default_storage.open(result["file"], "r") as export:
        [_, row] = list(csv.reader(export))
    assert row[1:4] == ["mallory", "", f"'{name}"]
