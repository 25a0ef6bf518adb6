from django.db import models
from django.utils import timezone


class EnqueuedTask(models.Model):
    """A `@task` enqueued and not yet started on Temporal: the outbox of
    tasks.py.

    `enqueue()` writes the row in the caller's transaction, and starts the
    task's workflow once that transaction commits; the start deletes the
    row. A rolled-back transaction takes the row with it, so the task never
    runs; a start that fails (Temporal down) leaves the row, and the
    start-enqueued-tasks schedule starts it later.
    """

    # The id of the task's result, and of its workflow (task-<hex>).
    id = models.CharField(max_length=64, primary_key=True)
    task_path = models.CharField(max_length=255)
    backend = models.CharField(max_length=100, default="default")
    queue_name = models.CharField(max_length=100, default="default")
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    run_after = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The task's retry and timeout policy, as resolved at enqueue time.
    timeout_seconds = models.FloatField()
    max_attempts = models.PositiveIntegerField()
    # Set when Temporal refused the start for good (INVALID_ARGUMENT: say,
    # arguments over its payload limit); the sweeper leaves the row alone.
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.task_path} ({self.id})"


class WorkflowRunList(models.Model):
    """The admin's Workflows page (admin.py): the runs it lists come from
    Temporal, so this model has no table. It gives the page its place in
    the admin index, and the permissions of Temporal's data: staff who may
    view "workflows", and who may use the codec endpoint (codec.py) to
    decode payloads and to encode them, each granted to no one by default."""

    class Meta:
        managed = False
        verbose_name = "workflow"
        verbose_name_plural = "workflows"
        permissions = [
            ("decode_payloads", "Can decode Temporal payloads (the Web UI's codec)"),
            ("encode_payloads", "Can encode Temporal payloads (the Web UI's codec)"),
        ]

    def __str__(self) -> str:
        return "workflows"
