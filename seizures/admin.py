from django.contrib import admin

from .models import Seizure, SeizurePhoto, SeizureRevision


class SeizureRevisionInline(admin.TabularInline):
    model = SeizureRevision
    fields = ["changed_at", "changed_by", "reason", "before", "after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SeizurePhotoInline(admin.TabularInline):
    """What was added and removed; the photos themselves download from the register."""

    model = SeizurePhoto
    fk_name = "seizure"
    fields = ["created_at", "added_by", "content_type", "size", "removed_at", "removed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Seizure)
class SeizureAdmin(admin.ModelAdmin):
    """Read-only here: seizures are recorded and corrected through the register (/seizures/),
    Seizure messages and imports, whose services audit every change."""

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
    inlines = [SeizureRevisionInline, SeizurePhotoInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
