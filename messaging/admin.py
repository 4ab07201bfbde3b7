from django.contrib import admin

from .models import Delivery, Message


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ["recipient", "delivered_at", "read_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: messages are written only through messaging.services.message_send."""

    list_display = ["id", "operation", "sender", "kind", "subject", "created_at"]
    sortable_by = ["id", "operation", "sender", "kind", "created_at"]  # subject is encrypted
    list_filter = ["operation", "kind"]
    # The subject is encrypted at rest: the database cannot search it.
    search_fields = ["sender__username"]
    readonly_fields = ["operation", "sender", "kind", "subject", "body", "targets", "created_at"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
