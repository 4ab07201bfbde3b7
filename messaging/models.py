"""Messages of an operation and their deliveries, one per recipient."""

from __future__ import annotations

from uuid import uuid4

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Operation
from aircop.encrypted_fields import EncryptedDateField, EncryptedTextField
from seizures.codes import Commodity

from .codes import DocumentType, HandlingCode, Outcome, Priority

BODY_MAX = settings.AIRCOP_MESSAGE_BODY_MAX


# The identity of each row bound to its encrypted fields (see aircop.encrypted_fields):
# a ciphertext copied into another row does not decrypt. Never change these formulas
# without a data migration that re-encrypts (the migrations keep their own copy).
def message_aad(message: Message) -> bytes:
    return f"messaging.message:{message.uid}:{message.operation_id}".encode()


def alert_details_aad(details: AlertDetails) -> bytes:
    return f"messaging.alertdetails:{details.uid}:{details.message_id}".encode()


def alert_subject_aad(subject: AlertSubject) -> bytes:
    return f"messaging.alertsubject:{subject.uid}:{subject.message_id}".encode()


def response_details_aad(details: ResponseDetails) -> bytes:
    return f"messaging.responsedetails:{details.uid}:{details.message_id}".encode()


class MessageKind(models.TextChoices):
    FREE_TEXT = "free_text", _("Message")
    ALERT = "alert", _("Alert")
    RESPONSE = "response", _("Response")
    SEIZURE = "seizure", _("Seizure")


class Message(models.Model):
    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sent_messages"
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.FREE_TEXT
    )
    # Encrypted at rest: no filter, search or ordering on them (see aircop.encrypted_fields).
    subject = EncryptedTextField(_("subject"), max_length=200, aad=message_aad)
    body = EncryptedTextField(
        _("body"), blank=True, validators=[MaxLengthValidator(BODY_MAX)], aad=message_aad
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    handling_code = models.CharField(
        _("handling code"), max_length=2, choices=HandlingCode.choices, default=HandlingCode.H0
    )
    handling_note = models.CharField(_("handling restriction"), max_length=300, blank=True)
    # Responses and Seizures refer to the Alert they answer: the thread.
    alert = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
        limit_choices_to={"kind": "alert"},
        verbose_name=_("alert"),
    )
    forwarded_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="forwards",
        verbose_name=_("forwarded from"),
    )
    # The targets the sender chose, as sent: {"ocus": true, "users": ["..."], ...}.
    targets = models.JSONField(_("targets"), default=dict)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-id"]
        # The body's length (BODY_MAX) is checked by the service and the forms: the column
        # holds its ciphertext, which a database constraint cannot measure.
        indexes = [
            models.Index(fields=["operation", "-id"]),
            models.Index(fields=["operation", "kind", "-id"]),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_alert(self) -> bool:
        return self.kind == MessageKind.ALERT


class Delivery(models.Model):
    """One recipient's copy of a message: when it reached their client, when they read it."""

    # No index of their own: the unique constraint leads with the message, two indexes with
    # the recipient. Every index is written for each of a broadcast's rows (docs/performance.md).
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Background e-mail (messaging.reminders, messaging.digests): each claimed by a conditional
    # UPDATE before sending, released if sending fails, so that a task run twice sends once.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    digested_at = models.DateTimeField(_("in a digest at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "recipient"], name="one_delivery_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "message"]),
            # A user's deliveries in commit order: resume, and each one's predecessor.
            models.Index(fields=["recipient", "id"], name="delivery_recipient_order"),
            models.Index(
                fields=["recipient"],
                name="delivery_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.recipient_id}"


class AlertDetails(models.Model):
    """The formatted part of an Alert: the flight, and who or what to control."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="alert_details"
    )
    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    flight_number = models.CharField(_("flight number"), max_length=8)
    airline = models.CharField(_("airline"), max_length=80, blank=True)
    flight_date = models.DateField(_("flight date"))
    departure_airport = models.CharField(_("departure airport"), max_length=3)
    transit_airports = models.JSONField(_("transit airports"), default=list, blank=True)
    destination_airport = models.CharField(_("destination airport"), max_length=3)
    suspected_commodity = models.CharField(
        _("suspected commodity"), max_length=20, choices=Commodity.choices, blank=True
    )
    risk_indicators = models.JSONField(_("risk indicators"), default=list, blank=True)
    requested_action = EncryptedTextField(
        _("requested action"), max_length=500, blank=True, aad=alert_details_aad
    )
    # A shipment instead of (or as well as) passengers.
    air_waybill = models.CharField(_("air waybill"), max_length=30, blank=True)
    consignor = EncryptedTextField(
        _("consignor"), max_length=200, blank=True, aad=alert_details_aad
    )
    consignee = EncryptedTextField(
        _("consignee"), max_length=200, blank=True, aad=alert_details_aad
    )
    declared_goods = models.CharField(_("declared goods"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("alert details")
        verbose_name_plural = _("alert details")
        indexes = [models.Index(fields=["flight_number", "flight_date"])]

    def __str__(self) -> str:
        return f"{self.flight_number} {self.flight_date}"

    @property
    def has_shipment(self) -> bool:
        return bool(self.air_waybill or self.consignor or self.consignee or self.declared_goods)


class AlertSubject(models.Model):
    """A person an Alert asks to control."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="alert_subjects")
    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    position = models.PositiveSmallIntegerField(default=0)
    name = EncryptedTextField(_("name"), max_length=200, aad=alert_subject_aad)
    date_of_birth = EncryptedDateField(
        _("date of birth"), null=True, blank=True, aad=alert_subject_aad
    )
    nationality = CountryField(_("nationality"), blank=True)
    document_type = models.CharField(
        _("travel document"), max_length=20, choices=DocumentType.choices, blank=True
    )
    document_number = EncryptedTextField(
        _("document number"), max_length=40, blank=True, aad=alert_subject_aad
    )
    pnr = EncryptedTextField(
        _("ticket / PNR reference"), max_length=40, blank=True, aad=alert_subject_aad
    )
    seat = EncryptedTextField(_("seat"), max_length=5, blank=True, aad=alert_subject_aad)

    class Meta:
        verbose_name = _("alert subject")
        verbose_name_plural = _("alert subjects")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ResponseDetails(models.Model):
    """The formatted part of a Response: what the control of an Alert found."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="response_details"
    )
    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    not_controlled_reason = EncryptedTextField(
        _("reason not controlled"), max_length=300, blank=True, aad=response_details_aad
    )
    action_taken = EncryptedTextField(
        _("action taken"), max_length=500, blank=True, aad=response_details_aad
    )

    class Meta:
        verbose_name = _("response details")
        verbose_name_plural = _("response details")

    def __str__(self) -> str:
        return self.get_outcome_display()


def attachment_aad(attachment: Attachment) -> bytes:
    """The identity of an attachment: bound to its file on disk and to its encrypted name."""
    return f"messaging.attachment:{attachment.uid}:{attachment.message_id}".encode()


class StoredFile(models.Model):
    """What every file stored encrypted under ``AIRCOP_ATTACHMENT_ROOT`` records (a message's
    attachment, a seizure's photo): ``messaging.attachments`` checks, stores and reads them.
    A concrete model adds its owner, an encrypted ``filename`` and ``file_aad()``."""

    uid = models.UUIDField(default=uuid4, unique=True, editable=False)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=64, unique=True)
    thumbnail_storage_name = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return str(self.uid)

    def file_aad(self) -> bytes:
        """The identity the file on disk is bound to (associated data of its encryption)."""
        raise NotImplementedError

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def has_thumbnail(self) -> bool:
        return bool(self.thumbnail_storage_name)


class Attachment(StoredFile):
    """A file sent with a message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=0)
    # Personal data (a name can say who or what is in it): encrypted at rest.
    filename = EncryptedTextField(_("file name"), max_length=255, aad=attachment_aad)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["message", "position", "id"]

    def file_aad(self) -> bytes:
        return attachment_aad(self)


class SearchField(models.TextChoices):
    KEYWORD = "keyword", _("keyword")
    DOCUMENT = "document", _("document number")
    FLIGHT = "flight", _("flight number")
    NAME = "name", _("name")
    PNR = "pnr", _("ticket / PNR reference")


class SearchToken(models.Model):
    """The blind index of a message: a keyed HMAC of one normalised token of one field.

    Never the token itself: only ``aircop.crypto.blind_index`` digests, under the index key,
    one HMAC key per field (``purpose``). Written by ``message_send`` in its transaction;
    ``manage.py reindex_messages`` rebuilds them."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="search_tokens")
    # Denormalised from the message so that a lookup stays inside one operation's index range.
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=10, choices=SearchField.choices)
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "field", "digest"], name="one_search_token_per_message"
            ),
        ]
        # (operation, field, digest) then message: the EXISTS lookups read the index only.
        indexes = [
            models.Index(
                fields=["operation", "field", "digest", "message"], name="search_token_lookup"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.field}"


class UnreadDigest(models.Model):
    """One e-mail digest of unread messages to one user for one period: the row is the claim,
    so a digest task run twice for the same user and period sends one e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unread_digests"
    )
    period_start = models.DateTimeField(_("period"))
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unread digest")
        verbose_name_plural = _("unread digests")
        constraints = [
            models.UniqueConstraint(fields=["user", "period_start"], name="one_digest_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.period_start:%Y-%m-%d %H:%M}"
