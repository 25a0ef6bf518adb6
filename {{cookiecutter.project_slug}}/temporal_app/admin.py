from django.contrib import admin

from .models import EmailDelivery


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
