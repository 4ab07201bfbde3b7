"""Messages of an operation and their deliveries, one per recipient."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Operation

BODY_MAX = settings.AIRCOP_MESSAGE_BODY_MAX


class MessageKind(models.TextChoices):
    # Alert, Response and Seizure arrive with the formatted-messages work.
    FREE_TEXT = "free_text", _("Free text")


class Message(models.Model):
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sent_messages"
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.FREE_TEXT
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), validators=[MaxLengthValidator(BODY_MAX)])
    # The targets the sender chose, as sent: {"ocus": true, "users": ["..."], ...}.
    targets = models.JSONField(_("targets"), default=dict)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), BODY_MAX),
                name="message_body_max_length",
            ),
        ]
        indexes = [models.Index(fields=["operation", "-id"])]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """One recipient's copy of a message: when it reached their client, when they read it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

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
            models.Index(
                fields=["recipient"],
                name="delivery_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.recipient_id}"
