"""Background tasks of the users app (Django's @task, run on the worker)."""

import csv
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.tasks import task
from django.utils import timezone

from .models import User

EXPORT_FIELDS = ["id", "username", "email", "first_name", "last_name", "date_joined"]
# What a spreadsheet runs as a formula: such a cell ("=HYPERLINK(...)" as a
# name) is written with a leading quote, OWASP's advice against CSV injection.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@task
def export_users_csv(user_ids: list[int]) -> dict:
    """Write the users to a CSV file in the default storage, once at the end (a
    retry writes a new file, not half of one); return its name."""
    users = User.objects.filter(pk__in=user_ids).order_by("pk")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    rows = 0
    for user in users.values_list(*EXPORT_FIELDS).iterator():
        writer.writerow(
            f"'{cell}" if str(cell).startswith(FORMULA_START) else cell for cell in user
        )
        rows += 1
    name = default_storage.save(
        f"exports/users-{timezone.now():%Y%m%d-%H%M%S}.csv",
        ContentFile(buffer.getvalue().encode()),
    )
    return {"file": name, "rows": rows}
