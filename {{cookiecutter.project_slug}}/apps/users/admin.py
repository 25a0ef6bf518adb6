from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_staff", "onboarded_at"]
    readonly_fields = ["onboarded_at", "last_processed_at"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Workflows", {"fields": ["onboarded_at", "last_processed_at"]}),
    ]
