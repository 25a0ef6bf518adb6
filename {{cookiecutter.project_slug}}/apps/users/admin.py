from collections import Counter

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from temporal_app.client import TemporalUnavailable
from temporal_app.starters import MAX_BATCH_IDS, start_batch, start_onboarding

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_staff", "onboarded_at"]
    readonly_fields = ["onboarded_at", "last_processed_at"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Workflows", {"fields": ["onboarded_at", "last_processed_at"]}),
    ]
    actions = ["start_onboarding", "start_batch"]

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
