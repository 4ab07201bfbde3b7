"""Users, operations (closed user groups), memberships, API tokens, audit events."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .airports import airport_choices


class Agency(models.TextChoices):
    CUSTOMS = "customs", _("Customs")
    POLICE = "police", _("Police")
    GENDARMERIE = "gendarmerie", _("Gendarmerie")
    IMMIGRATION = "immigration", _("Immigration")
    OTHER = "other", _("Other")


class User(AbstractUser):
    """An officer, national contact, OCU coordinator or administrator."""

    first_name = None
    last_name = None
    full_name = models.CharField(_("full name"), max_length=150)
    country = CountryField(_("country"), blank=True)
    agency = models.CharField(
        _("agency"), max_length=20, choices=Agency.choices, default=Agency.CUSTOMS
    )
    airport = models.CharField(_("airport"), max_length=3, blank=True, choices=airport_choices)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )

    REQUIRED_FIELDS = ["email", "full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.username


class OperationStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class Operation(models.Model):
    """A joint operation: the closed user group in which messages circulate."""

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    status = models.CharField(
        _("status"), max_length=10, choices=OperationStatus.choices, default=OperationStatus.PLANNED
    )
    ack_minutes_urgent = models.PositiveSmallIntegerField(
        _("acknowledgement deadline for urgent alerts (minutes)"), default=15
    )
    ack_minutes_normal = models.PositiveSmallIntegerField(
        _("acknowledgement deadline for normal alerts (minutes)"), default=120
    )
    countries = CountryField(_("participating countries"), multiple=True, blank=True)
    airports = models.JSONField(_("participating airports"), default=list, blank=True)
    created_from = models.ForeignKey(
        "self",
        verbose_name=_("created from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="operation_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def accepts_messages(self) -> bool:
        return self.status in (OperationStatus.PLANNED, OperationStatus.ACTIVE)


class Role(models.TextChoices):
    OCU = "ocu", _("Operational Coordination Unit")
    NATIONAL_CONTACT = "national_contact", _("National contact point")
    OFFICER = "officer", _("Officer")


class Membership(models.Model):
    """A user's place, and role, in one operation. Inactive means no access at all."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OFFICER)
    active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "operation"], name="one_membership_per_user"),
        ]
        indexes = [models.Index(fields=["operation", "role", "active"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.operation} · {self.get_role_display()}"


class Invitation(models.Model):
    """An invitation by e-mail to join an operation: a one-time link to set a password.

    Only a SHA-256 hash of the link's secret is stored. Used once (``accepted_at``) or never
    after ``expires_at``; a newer invitation to the same address supersedes it."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OFFICER)
    country = CountryField(_("country"), blank=True)
    airport = models.CharField(_("airport"), max_length=3, blank=True, choices=airport_choices)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    key_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["operation", "email"])]

    def __str__(self) -> str:
        return f"{self.email} · {self.operation}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the secret is stored; it is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AuditEvent(models.Model):
    """Who did what, in which operation, when. Written in the same transaction as the change."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
