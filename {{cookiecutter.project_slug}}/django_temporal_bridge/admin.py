"""The package in the admin: the outbox of background tasks (what waits to
start, and what Temporal refused), and the Workflows page, the recent runs
of the project's task queue read from Temporal (read-only; paged forward
with Temporal's page token, and back to the newest). The page renders
inside Django's own admin layout (admin/base_site.html shows the `content`
it is given), so the package ships no template."""

import base64
import binascii

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from .client import TemporalUnavailable
from .models import EnqueuedTask, WorkflowRunList
from .visibility import WorkflowPage, recent_workflows

TABLE = """<div class="module"><table id="workflow-runs">
<thead><tr><th scope="col">Status</th><th scope="col">Type</th>
<th scope="col">Workflow id (Temporal UI)</th><th scope="col">Started</th></tr></thead>
<tbody>{}</tbody></table></div>"""
ROW = '<tr><td>{}</td><td>{}</td><td><a href="{}">{}</a></td><td>{}</td></tr>'


def encode_page_token(token: bytes | None) -> str:
    return base64.urlsafe_b64encode(token).decode() if token else ""


def decode_page_token(text: str) -> bytes | None:
    """The page token of a link; None (the first page) for a bad one."""
    try:
        return base64.urlsafe_b64decode(text.encode()) or None
    except (binascii.Error, ValueError):
        return None


def page_content(page: WorkflowPage | None, error: str, *, first: bool) -> str:
    """The page's HTML: the runs (or what went wrong), and its links."""
    if error:
        body = format_html('<p class="errornote">{}</p>', error)
    elif page and page.runs:
        rows = format_html_join(
            "\n",
            ROW,
            (
                (run.status_label, run.workflow_type, run.url, run.workflow_id,
                 run.start_time)
                for run in page.runs
            ),
        )  # fmt: skip
        body = format_html(TABLE, rows)
    else:
        after = "" if first else " after the previous page"
        body = format_html("<p>No workflow has run on this task queue{}.</p>", after)
    links = [] if first else [format_html('<a href="?">{}</a>', "Newest")]
    if page and page.next_page_token:
        query = urlencode({"page": encode_page_token(page.next_page_token)})
        links.append(format_html('<a href="?{}">Next page</a>', query))
    return format_html(
        '<div id="content-main"><p>The runs on the task queue <code>{}</code>, as '
        "Temporal lists them: running first, then the most recently closed.</p>"
        '{}<p class="paginator">{}</p></div>',
        settings.TEMPORAL_TASK_QUEUE,
        body,
        format_html_join(" ", "{}", ((link,) for link in links)),
    )


@admin.register(WorkflowRunList)
class WorkflowRunListAdmin(admin.ModelAdmin):
    """Shown to staff who may view "workflows"; never changes anything."""

    page_size = 50

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        page_token = decode_page_token(request.GET.get("page", ""))
        page, error = None, ""
        try:
            page = recent_workflows(page_size=self.page_size, page_token=page_token)
        except TemporalUnavailable as unavailable:
            error = f"Temporal is unavailable: {unavailable}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Workflows",
            "content": page_content(page, error, first=page_token is None),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/base_site.html", context)


@admin.register(EnqueuedTask)
class EnqueuedTaskAdmin(admin.ModelAdmin):
    """Tasks enqueued and not started yet: waiting for Temporal (the
    start-enqueued-tasks schedule starts them), or refused for good, with
    Temporal's error. Read-only; a refused row may be deleted."""

    list_display = ["id", "task_path", "enqueued_at", "run_after", "failed_at"]
    list_filter = [("failed_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "task_path"]
    readonly_fields = [field.name for field in EnqueuedTask._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
