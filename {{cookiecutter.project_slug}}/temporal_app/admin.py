from django.contrib import admin

from .models import EmailDelivery


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """The emails the workflows sent, one row per idempotency key (read-only:
    a row stands for an email that left)."""

    list_display = ["sent_at", "to", "subject", "idempotency_key"]
    search_fields = ["to", "idempotency_key"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
