"""Background tasks of the users app, run by Django's task framework (on the
project's Temporal worker: see TASKS in config/settings/base.py)."""

import csv
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.tasks import task
from django.utils import timezone

from .models import User

EXPORT_FIELDS = ["id", "username", "email", "first_name", "last_name", "date_joined"]


@task
def export_users_csv(user_ids: list[int]) -> dict:
    """Write the given users to a CSV file in the default storage; return
    its name and how many rows it has.

    The users travel by id (task arguments are JSON); a user deleted since
    the enqueue is left out. Written once at the end, so a retry after a
    failure writes a new file rather than half of one.
    """
    users = User.objects.filter(pk__in=user_ids).order_by("pk")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    rows = 0
    for user in users.values_list(*EXPORT_FIELDS).iterator():
        writer.writerow(user)
        rows += 1
    name = default_storage.save(
        f"exports/users-{timezone.now():%Y%m%d-%H%M%S}.csv",
        ContentFile(buffer.getvalue().encode()),
    )
    return {"file": name, "rows": rows}
