"""Reads of messages, always scoped to the acting user.

A message is visible to its sender and its recipients while they are active
members of its operation; to anyone else it does not exist (404).
"""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from accounts.models import Membership, OperationStatus, User

from .models import Delivery, Message


def _member_operation_ids(user: User) -> QuerySet:
    return (
        Membership.objects.filter(user=user, active=True)
        .exclude(operation__status=OperationStatus.ARCHIVED)
        .values("operation_id")
    )


def inbox_for(*, user: User, membership: Membership, after: int = 0) -> QuerySet[Delivery]:
    """The user's deliveries in one operation, newest first (``after``: only ids above it)."""
    qs = Delivery.objects.filter(
        recipient=user, message__operation_id=membership.operation_id
    ).select_related("message", "message__sender", "message__operation")
    if after:
        qs = qs.filter(message_id__gt=after)
    return qs.order_by("-message_id")


def sent_by(*, user: User, membership: Membership) -> QuerySet[Message]:
    return (
        Message.objects.filter(sender=user, operation_id=membership.operation_id)
        .select_related("operation", "sender")
        .annotate(
            recipient_count=Count("deliveries"),
            read_count=Count("deliveries", filter=Q(deliveries__read_at__isnull=False)),
        )
        .order_by("-id")
    )


def message_for(*, user: User, message_id: int, slug: str | None = None) -> Message:
    """One message the user may read (as sender or recipient), or 404."""
    if not user.is_authenticated or not user.is_active:
        raise Http404
    qs = Message.objects.filter(
        Q(sender=user) | Q(deliveries__recipient=user),
        pk=message_id,
        operation_id__in=_member_operation_ids(user),
    ).select_related("operation", "sender")
    if slug is not None:
        qs = qs.filter(operation__slug=slug)
    message = qs.distinct().first()
    if message is None:
        raise Http404
    return message


def recipients_of(*, message: Message) -> QuerySet[Delivery]:
    """The deliveries of a message, for its sender's view (who has read it)."""
    return message.deliveries.select_related("recipient").order_by("recipient__full_name")


def deliveries_after(*, user: User, after: int, limit: int) -> list[Delivery]:
    """The user's deliveries above message id ``after``, oldest first, in every operation
    the user is still an active member of: what a reconnecting client missed."""
    return list(
        Delivery.objects.filter(
            recipient=user,
            message_id__gt=after,
            message__operation_id__in=_member_operation_ids(user),
        )
        .select_related("message", "message__sender", "message__operation")
        .order_by("message_id")[:limit]
    )


def unread_counts(*, user: User) -> dict[str, int]:
    """Unread messages per operation slug, for the operations the user is active in."""
    rows = (
        Delivery.objects.filter(
            recipient=user,
            read_at__isnull=True,
            message__operation_id__in=_member_operation_ids(user),
        )
        .values("message__operation__slug")
        .annotate(n=Count("id"))
    )
    return {row["message__operation__slug"]: row["n"] for row in rows}


def operation_slugs_of(*, user: User) -> set[str]:
    return set(
        Membership.objects.filter(user=user, active=True, user__is_active=True)
        .exclude(operation__status=OperationStatus.ARCHIVED)
        .values_list("operation__slug", flat=True)
    )


def last_delivery_id(*, user: User) -> int:
    return Delivery.objects.filter(recipient=user).aggregate(m=Max("message_id"))["m"] or 0
