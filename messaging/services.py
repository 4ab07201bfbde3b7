"""Every write of messaging: send, mark delivered, mark read."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Membership, Operation, User
from aircop.exceptions import Conflict, DomainError, NotFound

from . import realtime
from .models import BODY_MAX, Delivery, Message, MessageKind
from .routing import Targets, resolve_recipients


def _sender_membership(*, sender: User, operation: Operation) -> Membership:
    membership = (
        Membership.objects.select_related("user", "operation")
        .filter(user=sender, operation=operation, active=True, user__is_active=True)
        .first()
    )
    if membership is None:
        raise NotFound(_("No such operation."), field="operation")
    return membership


def _validate_content(*, kind: str, subject: str, body: str) -> None:
    if kind not in MessageKind.values:
        raise DomainError(_("Unknown message kind."), field="kind")
    if not subject.strip():
        raise DomainError(_("The subject is required."), field="subject")
    if len(subject) > Message._meta.get_field("subject").max_length:
        raise DomainError(_("The subject is too long (200 characters at most)."), field="subject")
    if not body.strip():
        raise DomainError(_("The message is empty."), field="body")
    if len(body) > BODY_MAX:
        raise DomainError(
            _("The message has %(length)d characters; the limit is %(limit)d.")
            % {"length": len(body), "limit": BODY_MAX},
            field="body",
            code="too_long",
        )


@transaction.atomic
def message_send(
    *,
    sender: User,
    operation: Operation,
    kind: str = MessageKind.FREE_TEXT,
    subject: str,
    body: str,
    targets: Targets,
) -> Message:
    """Store a message and one delivery per recipient, then notify them after commit."""
    membership = _sender_membership(sender=sender, operation=operation)
    # Lock the operation row so that a concurrent close waits for this send.
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if not operation.accepts_messages:
        raise Conflict(
            _("The operation is %(status)s: it accepts no new message.")
            % {"status": operation.get_status_display().lower()},
            field="operation",
            code="operation_closed",
        )
    _validate_content(kind=kind, subject=subject, body=body)
    recipients = resolve_recipients(membership, targets)

    message = Message.objects.create(
        operation=operation,
        sender=sender,
        kind=kind,
        subject=subject.strip(),
        body=body,
        targets=targets.as_dict(),
    )
    Delivery.objects.bulk_create(
        [Delivery(message=message, recipient_id=m.user_id) for m in recipients]
    )
    audit_record(
        actor=sender,
        action="message.sent",
        operation=operation,
        target=message,
        data={"targets": targets.as_dict(), "recipients": len(recipients)},
    )
    realtime.send_event_on_commit(
        [m.user_id for m in recipients], realtime.message_new_event(message)
    )
    message.recipient_memberships = recipients
    return message


def deliveries_mark_delivered(*, user: User, message_ids: Iterable[int]) -> int:
    """Record that these messages reached one of the user's clients (first time only)."""
    ids = list(message_ids)
    if not ids:
        return 0
    return Delivery.objects.filter(
        recipient=user, message_id__in=ids, delivered_at__isnull=True
    ).update(delivered_at=timezone.now())


@transaction.atomic
def delivery_mark_read(*, user: User, message: Message) -> Delivery | None:
    """Mark the user's copy read (and delivered); the sender has no delivery and gets None.

    The user's other open tabs hear of it (``delivery.read``) to update their unread count.
    """
    now = timezone.now()
    delivery = Delivery.objects.select_for_update().filter(recipient=user, message=message).first()
    if delivery is None or delivery.read_at is not None:
        return delivery
    delivery.read_at = now
    delivery.delivered_at = delivery.delivered_at or now
    delivery.save(update_fields=["read_at", "delivered_at"])
    realtime.send_event_on_commit([user.pk], realtime.delivery_read_event(message))
    return delivery
