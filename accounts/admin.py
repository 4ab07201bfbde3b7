from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from modeltranslation.admin import TranslationAdmin

from aircop.exceptions import DomainError

from . import two_factor
from .hygiene import account_unblock
from .models import ApiToken, AuditEvent, Invitation, Membership, Operation, User

# django-otp's own admin pages would show an administrator every user's TOTP secret (as a QR
# code): second factors are only reset here (UserAdmin's action), never read. Authenticators
# (accounts.Authenticator) have no admin page either.
for _otp_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_otp_model):
        admin.site.unregister(_otp_model)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "role", "active", "joined_at", "left_at"]
    readonly_fields = ["joined_at", "left_at"]


class BlockedFilter(admin.SimpleListFilter):
    title = _("blocked")
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return [("yes", _("Blocked")), ("no", _("Not blocked"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(blocked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(blocked_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "full_name",
        "country",
        "agency",
        "airport",
        "is_active",
        "blocked_at",
        "last_seen_at",
        "is_staff",
        "second_factor",
    ]
    list_filter = ["is_active", BlockedFilter, "is_staff", "agency", "country"]
    actions = ["unblock", "reset_second_factor"]
    search_fields = ["username", "full_name", "email", "airport"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Officer"),
            {
                "fields": (
                    "full_name",
                    "email",
                    "country",
                    "agency",
                    "airport",
                    "preferred_language",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "last_seen_at", "date_joined", "blocked_at")}),
    )
    readonly_fields = ["last_seen_at", "blocked_at"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "email",
                    "country",
                    "agency",
                    "airport",
                    "preferred_language",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    inlines = [MembershipInline]

    @admin.action(description=_("Unblock the selected accounts"))
    def unblock(self, request, queryset):
        done = 0
        for user in queryset.filter(blocked_at__isnull=False):
            try:
                account_unblock(actor=request.user, user=user)
            except DomainError as error:
                self.message_user(request, f"{user}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("Accounts unblocked: %(count)d.") % {"count": done})

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
            )
        )

    @admin.display(boolean=True, description=_("second factor"), ordering="has_totp")
    def second_factor(self, obj):
        return obj.has_totp

    @admin.action(
        description=_("Reset the second factor (set up again at the next login)"),
        permissions=["change"],
    )
    def reset_second_factor(self, request, queryset):
        users = list(queryset)
        for user in users:
            two_factor.second_factor_reset(actor=request.user, user=user)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user: they set it up again at the next login.",
                "Second factor reset for %(count)d users: they set it up again at the next login.",
                len(users),
            )
            % {"count": len(users)},
        )


@admin.register(Operation)
class OperationAdmin(TranslationAdmin):
    list_display = ["name", "slug", "start_date", "end_date", "status", "member_count"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj.memberships.filter(active=True).count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "operation", "role", "active", "joined_at"]
    list_filter = ["operation", "role", "active"]
    search_fields = ["user__username", "user__full_name", "operation__slug"]
    autocomplete_fields = ["user", "operation"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False  # tokens are created by their owner (profile) or `manage.py issue_token`


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "sequence",
        "created_at",
        "actor",
        "operation",
        "action",
        "object_type",
        "object_id",
    ]
    list_filter = ["action", "operation"]
    search_fields = ["actor__username", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made on the operation's administration page."""

    list_display = ["email", "operation", "role", "invited_by", "created_at", "expires_at"]
    list_filter = ["role"]
    search_fields = ["email", "full_name", "operation__slug"]
    readonly_fields = [f.name for f in Invitation._meta.fields if f.name != "key_hash"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
