from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User
from .tasks import export_users_csv


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
{%- if cookiecutter.example_workflows %}
    list_display = ["username", "email", "is_staff", "onboarded_at"]
    readonly_fields = ["onboarded_at", "last_processed_at"]
    fieldsets = [
        *(DjangoUserAdmin.fieldsets or ()),
        ("Workflows", {"fields": ["onboarded_at", "last_processed_at"]}),
    ]
{%- endif %}
    actions = ["export_to_csv"]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("users.export_users")

    @admin.action(
        description="Export selected users to CSV (in the background)",
        permissions=["export"],
    )
    def export_to_csv(self, request, queryset):
        user_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        # Enqueued on commit; never fails the request (Temporal down: starts later).
        result = export_users_csv.enqueue(user_ids)
        self.message_user(
            request,
            f"Exporting {len(user_ids)} users in the background on the Temporal "
            f"worker: task {result.id}. Its result names the CSV file "
            f"(export_users_csv.get_result({result.id!r}).return_value).",
            messages.SUCCESS,
        )
