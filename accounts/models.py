"""Users, operations (closed user groups), memberships, API tokens, audit events."""

from __future__ import annotations

from binascii import unhexlify
from uuid import uuid4

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from aircop.encrypted_fields import EncryptedTextField

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

    # Presence and account hygiene (accounts.presence, accounts.hygiene). Blocked (unused for
    # too long, lifted by an administrator) is not deactivated (is_active: access withdrawn).
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    block_reminded_at = models.DateTimeField(
        _("reminded of blocking at"), null=True, blank=True, editable=False
    )
    unblocked_at = models.DateTimeField(_("unblocked at"), null=True, blank=True, editable=False)

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

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None


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


class AppendOnlyError(RuntimeError):
    """The audit trail is append-only: the application never changes nor deletes an event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are never updated")

    def delete(self):
        raise AppendOnlyError("audit events are never deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events are never updated")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError("audit events are appended one by one with audit_record()")


class AuditEvent(models.Model):
    """Who did what, in which operation, when. Written in the same transaction as the change,
    by ``accounts.audit.audit_record`` only, as the next link of a hash chain
    (``accounts.audit.chain``). Never updated nor deleted: here, and on PostgreSQL by a trigger.

    The user and the operation are protected: someone who appears in the trail is deactivated,
    an operation archived, never deleted (their ids are part of the hashed form)."""

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["operation", "-sequence"], name="audit_operation_seq"),
            models.Index(fields=["action", "-sequence"], name="audit_action_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are never updated")
        if not self.hash:
            raise AppendOnlyError("append audit events with accounts.audit.audit_record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are never deleted")

    def chain_fields(self) -> dict:
        """The fields the hash covers (``accounts.audit.chain.canonical_form``)."""
        return {
            "sequence": self.sequence,
            "prev_hash": self.prev_hash,
            "actor_id": self.actor_id,
            "operation_id": self.operation_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "data": self.data,
            "created_at": self.created_at,
        }


def authenticator_aad(device: Authenticator) -> bytes:
    """The identity an authenticator's secret is bound to (see aircop.encrypted_fields)."""
    return f"accounts.authenticator:{device.uid}:{device.user_id}".encode()


def _random_totp_key() -> str:
    return random_hex(20)


class Authenticator(TimestampMixin, ThrottlingMixin, Device):
    """A user's TOTP authenticator (django-otp's ``TOTPDevice``, the same fields and checks)
    with its secret encrypted at rest: a copy of the database alone gives no second factor.
    django-otp finds it as it finds any device (``devices_for_user``, the session's
    ``persistent_id``)."""

    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    key = EncryptedTextField(default=_random_totp_key, aad=authenticator_aad)  # hex secret
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        pass  # no page shows it: its name is not translated

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    # django-otp's own TOTP logic, which reads only the fields above.
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings
