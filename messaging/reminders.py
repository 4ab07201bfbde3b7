"""E-mail to a recipient who has not acknowledged an urgent Alert by its deadline.

``overdue_urgent_deliveries`` finds them (the beat scan, every minute);
``alert_reminder_send`` sends one e-mail per delivery, at most once: it claims the delivery with
a conditional UPDATE of ``reminded_at`` before sending and releases the claim when sending
fails (the task then retries). The e-mail names no passenger and no subject: only that an urgent
alert of the operation awaits acknowledgement, and a link to it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Membership, OperationStatus
from aircop.links import absolute_url
from aircop.mail import mail_user

from .codes import Priority
from .models import Delivery, MessageKind
from .selectors import ack_due_at

logger = logging.getLogger(__name__)

TEMPLATE = "messaging/email/alert_reminder"


def _awaiting_reminder():
    """Deliveries of urgent Alerts, not acknowledged, not reminded, to an active, unblocked
    member of an operation that is running."""
    return Delivery.objects.filter(
        message__kind=MessageKind.ALERT,
        message__priority=Priority.URGENT,
        message__operation__status__in=[OperationStatus.PLANNED, OperationStatus.ACTIVE],
        acknowledged_at__isnull=True,
        reminded_at__isnull=True,
        recipient__is_active=True,
        recipient__blocked_at__isnull=True,
    ).filter(
        Exists(
            Membership.objects.filter(
                user_id=OuterRef("recipient_id"),
                operation_id=OuterRef("message__operation_id"),
                active=True,
            )
        )
    )


def overdue_urgent_deliveries(*, now: datetime | None = None) -> list[int]:
    """Ids of the deliveries whose reminder is due: past the operation's deadline for urgent
    Alerts, sent within the last ``AIRCOP_ALERT_REMINDER_WINDOW_HOURS``."""
    now = now or timezone.now()
    window = now - timedelta(hours=settings.AIRCOP_ALERT_REMINDER_WINDOW_HOURS)
    rows = (
        _awaiting_reminder()
        .filter(message__created_at__gte=window, message__created_at__lt=now)
        .values_list("pk", "message__created_at", "message__operation__ack_minutes_urgent")
        .order_by("pk")
    )
    return [pk for pk, sent, minutes in rows if sent + timedelta(minutes=minutes) < now]


def alert_reminder_send(*, delivery_id: int, now: datetime | None = None) -> bool:
    """E-mail the recipient of this delivery, once. Returns True when this call sent it."""
    now = now or timezone.now()
    delivery = (
        _awaiting_reminder()
        .select_related("recipient", "message__operation")
        .only(
            "id",
            "recipient",
            "message__id",
            "message__created_at",
            "message__priority",
            "message__operation",
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or not delivery.recipient.email:
        return False
    message = delivery.message
    due_at = ack_due_at(message)
    if due_at >= now:
        return False  # not overdue (yet): the scan will enqueue it again when it is
    claimed = Delivery.objects.filter(
        pk=delivery_id, reminded_at__isnull=True, acknowledged_at__isnull=True
    ).update(reminded_at=now)
    if not claimed:
        return False  # another run has it (or it was acknowledged meanwhile)
    operation = message.operation
    try:
        mail_user(
            delivery.recipient,
            template=TEMPLATE,
            context={
                "operation": operation,
                "due_at": due_at,
                "url": absolute_url("messaging:detail", slug=operation.slug, message_id=message.id),
            },
        )
    except BaseException:
        # Released: the retry (or the next scan) may send it.
        Delivery.objects.filter(pk=delivery_id, reminded_at=now).update(reminded_at=None)
        raise
    logger.info("Urgent alert reminder sent (delivery %s)", delivery_id)
    return True
