"""The example workflows in the admin: the emails they sent, and actions on
users that start them.

The users app knows nothing of Temporal (so it never imports temporal_app):
this app adds its actions to the users admin, as it adds the signal that
starts onboarding (signals.py).
"""

from collections import Counter

from django.contrib import admin, messages

from apps.users.admin import UserAdmin
from apps.users.models import User

from .core.client import TemporalUnavailable
from .models import EmailDelivery
from .starters import MAX_BATCH_IDS, start_batch, start_onboarding


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """The emails the workflows sent, one row per idempotency key (read-only:
    a row with a `sent_at` stands for an email that left; one without is an
    attempt sending now, or one that died, which a retry takes over)."""

    list_display = ["claimed_at", "sent_at", "to", "subject", "idempotency_key"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to", "idempotency_key"]
    date_hierarchy = "claimed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WorkflowUserAdmin(UserAdmin):
    """The users admin, with actions that start the example workflows."""

    actions = [*UserAdmin.actions, "start_onboarding", "start_batch"]

    @admin.action(description="Start onboarding for the selected users")
    def start_onboarding(self, request, queryset):
        outcomes = Counter()
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

    @admin.action(description="Process the selected users in a batch")
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
