from django.contrib import admin

from .models import Seizure


@admin.register(Seizure)
class SeizureAdmin(admin.ModelAdmin):
    """Read-only here: seizures are recorded through Seizure messages (and, later, the register),
    so that every record is audited."""

    list_display = [
        "seized_at",
        "operation",
        "airport",
        "commodity",
        "quantity",
        "unit",
        "persons_arrested",
        "reported_by",
    ]
    list_filter = ["operation", "commodity", "detection", "concealment"]
    search_fields = ["airport", "flight_number", "reported_by__username"]
    date_hierarchy = "seized_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
