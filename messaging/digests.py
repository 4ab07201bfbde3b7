"""A digest of unread messages, by e-mail, to members who were offline.

Offline, precisely: the member has not been seen (no signed-in request, no websocket open or
pinging: ``User.last_seen_at``, see accounts.presence) since the message arrived, and not for
``AIRCOP_DIGEST_OFFLINE_MINUTES`` at least. An open websocket refreshes ``last_seen_at`` at
least once a minute, so a member with a page open never gets a digest.

A digest covers the member's unread deliveries of such messages, sent within the last
``AIRCOP_DIGEST_LOOKBACK_HOURS`` (24), in operations where the member is still active, that no
earlier digest covered (``Delivery.digested_at``). At most one digest
per user and period (``AIRCOP_DIGEST_PERIOD_MINUTES``): the ``UnreadDigest`` row, unique per
user and period, is the claim, written with the deliveries' marks before the e-mail leaves;
both are undone when sending fails, so that the retry sends it. The e-mail gives counts per
operation and links, never a subject or a name.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, Operation, OperationStatus, User
from aircop.links import absolute_url
from aircop.mail import mail_user

from .models import Delivery, UnreadDigest

logger = logging.getLogger(__name__)

TEMPLATE = "messaging/email/unread_digest"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def period_start(now: datetime | None = None) -> datetime:
    """The start of the digest period ``now`` falls in."""
    now = now or timezone.now()
    period = timedelta(minutes=settings.AIRCOP_DIGEST_PERIOD_MINUTES)
    return EPOCH + ((now - EPOCH) // period) * period


def _member_of_operation(recipient) -> Exists:
    return Exists(
        Membership.objects.filter(
            user_id=recipient,
            operation_id=OuterRef("message__operation_id"),
            active=True,
        ).exclude(operation__status=OperationStatus.ARCHIVED)
    )


def _recent_unread(now: datetime) -> QuerySet[Delivery]:
    """Unread deliveries of messages of the lookback window that no digest covered yet. Older
    ones are not news: they arrived while the member was online, or before the window."""
    since = now - timedelta(hours=settings.AIRCOP_DIGEST_LOOKBACK_HOURS)
    return Delivery.objects.filter(
        read_at__isnull=True,
        digested_at__isnull=True,
        message__created_at__gt=since,
        message__created_at__lte=now,
    )


def pending_for(*, user: User, now: datetime | None = None) -> QuerySet[Delivery]:
    """The user's unread deliveries a digest should cover: arrived since the user was last
    seen, in an operation the user is still a member of."""
    deliveries = _recent_unread(now or timezone.now()).filter(recipient=user)
    deliveries = deliveries.filter(_member_of_operation(user.pk))
    if user.last_seen_at is not None:
        deliveries = deliveries.filter(message__created_at__gt=user.last_seen_at)
    return deliveries


def _offline(user: User, now: datetime) -> bool:
    threshold = now - timedelta(minutes=settings.AIRCOP_DIGEST_OFFLINE_MINUTES)
    return user.last_seen_at is None or user.last_seen_at < threshold


def _reachable_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True, blocked_at__isnull=True).exclude(email="")


def digest_recipients(*, now: datetime | None = None) -> list[int]:
    """Ids of the users who are offline and have unread messages that arrived since. Driven
    by the messages of the lookback window (``Message.created_at`` is indexed), so the cost
    follows the recent traffic, not the history."""
    now = now or timezone.now()
    threshold = now - timedelta(minutes=settings.AIRCOP_DIGEST_OFFLINE_MINUTES)
    recipients = (
        _recent_unread(now)
        .filter(recipient__in=_reachable_users())
        .filter(
            Q(recipient__last_seen_at__isnull=True)
            | Q(
                recipient__last_seen_at__lt=threshold,
                message__created_at__gt=F("recipient__last_seen_at"),
            )
        )
        .filter(_member_of_operation(OuterRef("recipient_id")))
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    return list(recipients)


def _claim(user: User, period: datetime, now: datetime) -> tuple[UnreadDigest, list[int]] | None:
    with transaction.atomic():
        ids = list(pending_for(user=user, now=now).values_list("pk", flat=True))
        if not ids:
            return None
        try:
            with transaction.atomic():
                digest = UnreadDigest.objects.create(
                    user=user, period_start=period, message_count=len(ids)
                )
        except IntegrityError:
            return None  # this period's digest is claimed already
        Delivery.objects.filter(pk__in=ids).update(digested_at=now)
    return digest, ids


def _release(digest: UnreadDigest, ids: list[int], now: datetime) -> None:
    with transaction.atomic():
        Delivery.objects.filter(pk__in=ids, digested_at=now).update(digested_at=None)
        UnreadDigest.objects.filter(pk=digest.pk).delete()


def _summary(ids: list[int]) -> list[dict]:
    counts = dict(
        Delivery.objects.filter(pk__in=ids)
        .values_list("message__operation_id")
        .annotate(n=Count("pk"))
        .values_list("message__operation_id", "n")
    )
    operations = Operation.objects.filter(pk__in=counts).order_by("-start_date", "name")
    return [
        {
            "operation": operation,
            "count": counts[operation.pk],
            "url": absolute_url("messaging:inbox", slug=operation.slug),
        }
        for operation in operations
    ]


def digest_send(*, user_id: int, period: datetime, now: datetime | None = None) -> bool:
    """E-mail ``user_id`` the digest of ``period``, at most once. True when this call sent it."""
    now = now or timezone.now()
    user = _reachable_users().filter(pk=user_id).first()
    if user is None or not _offline(user, now):
        return False
    claim = _claim(user, period, now)
    if claim is None:
        return False
    digest, ids = claim
    try:
        mail_user(
            user,
            template=TEMPLATE,
            context={"total": len(ids), "operations": _summary(ids)},
        )
    except BaseException:
        _release(digest, ids, now)
        raise
    UnreadDigest.objects.filter(pk=digest.pk).update(sent_at=timezone.now())
    logger.info("Unread digest sent (user %s, %s messages)", user_id, len(ids))
    return True
