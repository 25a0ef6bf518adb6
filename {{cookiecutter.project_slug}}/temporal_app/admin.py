"""The example workflows in the admin, extending the users admin (which never
imports temporal_app; docs: the admin guide)."""

from collections import Counter, defaultdict

from django.contrib import admin, messages
from django.utils.html import format_html

from apps.users.admin import UserAdmin
from apps.users.models import User
from django_temporal_bridge.client import TemporalUnavailable

from .models import EmailDelivery
from .starters import (
    MAX_BATCH_IDS,
    FollowUpCancellation,
    cancel_follow_ups,
    start_batch,
    start_onboarding,
)
from .visibility import MAX_USER_WORKFLOWS, onboarding_states, user_workflows

# Onboardings an action asks at most (a page's worth).
MAX_CANCELLATIONS = 100


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """The emails the workflows sent, one per idempotency key (read-only)."""

    list_display = ["claimed_at", "sent_at", "to", "subject", "idempotency_key"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to", "idempotency_key"]
    date_hierarchy = "claimed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WorkflowUserAdmin(UserAdmin):
    """The users admin, with each user's onboarding and workflow actions."""

    list_display = [*UserAdmin.list_display, "onboarding"]
    actions = [
        *UserAdmin.actions,
        "start_onboarding",
        "start_batch",
        "cancel_follow_up",
    ]
    change_form_template = "admin/temporal_app/user_change_form.html"

    def get_changelist_instance(self, request):
        """Read the onboarding of the page's users in one bounded call."""
        changelist = super().get_changelist_instance(request)
        if request.method == "GET":  # a POST runs an action, then redirects
            users = list(changelist.result_list)  # the page, evaluated once
            states = onboarding_states(user.pk for user in users)
            for user in users:
                user.onboarding_state = states[user.pk]
        return changelist

    @admin.display(description="Onboarding")
    def onboarding(self, user):
        state = getattr(user, "onboarding_state", None)
        if state is None or not state.known:
            return "unknown"
        if state.status is None:
            return str(state)
        return format_html('<a href="{}">{}</a>', state.url, state)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Add the user's workflows (by their UserId search attribute)."""
        extra_context = extra_context or {}
        if object_id and object_id.isdigit():
            try:
                extra_context["user_workflows"] = user_workflows(int(object_id))
            except TemporalUnavailable as error:
                extra_context["user_workflows_error"] = str(error)
            extra_context["max_user_workflows"] = MAX_USER_WORKFLOWS
        return super().change_view(request, object_id, form_url, extra_context)

    def has_process_permission(self, request) -> bool:
        return request.user.has_perm("users.process_users")

    @admin.action(description="Cancel the follow-up email", permissions=["change"])
    def cancel_follow_up(self, request, queryset):
        users = list(queryset.order_by("pk")[: MAX_CANCELLATIONS + 1])
        if len(users) > MAX_CANCELLATIONS:
            self.message_user(
                request,
                f"Only the first {MAX_CANCELLATIONS} selected users were asked.",
                messages.WARNING,
            )
            users = users[:MAX_CANCELLATIONS]
        answers = cancel_follow_ups([user.pk for user in users])
        names = defaultdict(list)
        for user in users:
            answer = answers[user.pk]
            outcome = (
                "Temporal unavailable"
                if isinstance(answer, TemporalUnavailable)
                else str(answer)
            )
            names[outcome].append(user.get_username())
        levels = {
            str(FollowUpCancellation.CANCELLED): messages.SUCCESS,
            "Temporal unavailable": messages.ERROR,
        }
        for outcome, usernames in names.items():
            self.message_user(
                request,
                f"Follow-up email: {outcome}: {', '.join(usernames)}.",
                levels.get(outcome, messages.INFO),
            )

    @admin.action(
        description="Start onboarding for the selected users", permissions=["change"]
    )
    def start_onboarding(self, request, queryset):
        outcomes: Counter[str] = Counter()
        for user in queryset.exclude(email=""):
            try:
                outcomes[str(start_onboarding(user).outcome)] += 1
            except TemporalUnavailable as error:
                # Temporal is down: the rest would wait for it in vain.
                self.message_user(request, f"Onboarding: {error}", messages.ERROR)
                break
        if outcomes:
            summary = ", ".join(
                f"{outcome}: {count} user{'s' if count > 1 else ''}"
                for outcome, count in outcomes.items()
            )
            self.message_user(
                request,
                f"Onboarding {summary} (users without an email address are skipped).",
                messages.SUCCESS,
            )

    @admin.action(
        description="Process the selected users in a batch", permissions=["process"]
    )
    def start_batch(self, request, queryset):
        user_ids = list(queryset.values_list("pk", flat=True)[: MAX_BATCH_IDS + 1])
        try:
            start = start_batch(user_ids=user_ids)
        except (ValueError, TemporalUnavailable) as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request, f"Batch {start.workflow_id}: {start.outcome}.", messages.SUCCESS
        )


# Importing apps.users.admin above registered its UserAdmin: replace it.
admin.site.unregister(User)
admin.site.register(User, WorkflowUserAdmin)
