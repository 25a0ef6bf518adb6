from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import ngettext

from temporal_app.starters import (
    MAX_BATCH_IDS,
    BatchTooLargeError,
    start_batch,
    start_onboarding,
)

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
        users = list(queryset.exclude(email=""))
        for user in users:
            start_onboarding(user)
        started = ngettext(
            "Onboarding started for %(count)d user",
            "Onboarding started for %(count)d users",
            len(users),
        ) % {"count": len(users)}
        self.message_user(
            request,
            f"{started} (users without an email address are skipped; a user "
            "is onboarded only once).",
            messages.SUCCESS,
        )

    @admin.action(description="Process the selected users in a batch")
    def start_batch(self, request, queryset):
        user_ids = list(queryset.values_list("pk", flat=True)[: MAX_BATCH_IDS + 1])
        try:
            workflow_id = start_batch(user_ids=user_ids)
        except BatchTooLargeError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"Batch {workflow_id} started.", messages.SUCCESS)
