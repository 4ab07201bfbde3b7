"""Reads of messages, always scoped to the acting user.

A message is visible to its sender and its recipients while they are active
members of its operation; to anyone else it does not exist (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, OperationStatus, Role, User
from aircop.crypto.blind_index import blind_index, tokens
from aircop.exceptions import DomainError

from . import search_index
from .codes import HandlingCode, Outcome, Priority
from .models import Attachment, Delivery, Message, MessageKind, SearchField, SearchToken


def _member_operation_ids(user: User) -> QuerySet:
    return (
        Membership.objects.filter(user=user, active=True)
        .exclude(operation__status=OperationStatus.ARCHIVED)
        .values("operation_id")
    )


def inbox_for(*, user: User, membership: Membership) -> QuerySet[Delivery]:
    """The user's deliveries in one operation, newest first."""
    return (
        Delivery.objects.filter(recipient=user, message__operation_id=membership.operation_id)
        .select_related("message", "message__sender", "message__operation")
        .order_by("-message_id")
    )


def inbox_after(*, user: User, membership: Membership, after: int) -> QuerySet[Delivery]:
    """The user's deliveries in one operation after that of message ``after`` (the last one
    the client got, see ``delivery_cursor``), in the order they were delivered."""
    qs = Delivery.objects.filter(recipient=user, message__operation_id=membership.operation_id)
    if after:
        qs = qs.filter(id__gt=delivery_cursor(user=user, message_id=after))
    return qs.select_related("message", "message__sender", "message__operation").order_by("id")


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


def _files_of(message: Message) -> QuerySet[Attachment]:
    """A message's files: a forward carries those of the message it forwards (its readers get
    the files, not the original message itself)."""
    return Attachment.objects.filter(message_id=message.forwarded_from_id or message.pk)


def attachments_of(*, message: Message) -> list[Attachment]:
    """The attachments of a message already obtained through ``message_for``."""
    return list(_files_of(message).order_by("position", "id"))


def attachment_for(*, user: User, message_id: int, uid, slug: str | None = None) -> Attachment:
    """An attachment of a message the user may read (``message_for``), or 404."""
    message = message_for(user=user, message_id=message_id, slug=slug)
    attachment = _files_of(message).filter(uid=uid).select_related("message__operation").first()
    if attachment is None:
        raise Http404
    return attachment


def recipients_of(*, message: Message) -> QuerySet[Delivery]:
    """The deliveries of a message, for its sender's view (who has read it)."""
    return message.deliveries.select_related("recipient").order_by("recipient__full_name")


def deliveries_after(*, user: User, cursor: int, limit: int) -> list[Delivery]:
    """The user's deliveries after ``cursor`` (a delivery id, see ``delivery_cursor``) in
    commit order, in every operation the user is still an active member of: what a
    reconnecting client missed."""
    return list(
        Delivery.objects.filter(
            recipient=user,
            id__gt=cursor,
            message__operation_id__in=_member_operation_ids(user),
        )
        .select_related("message", "message__sender", "message__operation")
        .order_by("id")[:limit]
    )


def delivery_cursor(*, user: User, message_id: int) -> int:
    """Where a client that got message ``message_id`` last stands in the user's deliveries:
    that message's delivery, or for an id the user did not receive, the delivery of the
    latest message below it (0 for none). Delivery ids, unlike message ids, rise in commit
    order: a message numbered below the last one a client got may have committed after it."""
    cursor = (
        Delivery.objects.filter(recipient=user, message_id__lte=message_id)
        .order_by("-message_id")
        .values_list("id", flat=True)
        .first()
    )
    return cursor or 0


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


def operation_slugs_by_user(*, user_ids: Iterable[int]) -> dict[int, set[str]]:
    """For each of these users, the slugs of the operations they may hear of (active member of
    a non-archived operation, active account); a user with none is absent."""
    slugs: dict[int, set[str]] = {}
    rows = (
        Membership.objects.filter(user_id__in=user_ids, active=True, user__is_active=True)
        .exclude(operation__status=OperationStatus.ARCHIVED)
        .values_list("user_id", "operation__slug")
    )
    for user_id, slug in rows:
        slugs.setdefault(user_id, set()).add(slug)
    return slugs


def last_delivery_id(*, user: User) -> int:
    """The id of the message the user received last (in commit order; 0 for none): where a
    page's websocket resumes from."""
    last = Delivery.objects.filter(recipient=user).order_by("-id")
    return last.values_list("message_id", flat=True).first() or 0


# --- formatted messages: thread, follow-up -----------------------------------------------


def message_with_details(message: Message) -> Message:
    """Load the formatted part of a message (and of the message it forwards) for display."""
    from .models import AlertSubject

    shown = message.forwarded_from or message
    related = []
    if shown.kind == MessageKind.ALERT:
        related.append("alert_details")
    elif shown.kind == MessageKind.RESPONSE:
        related.append("response_details")
    elif shown.kind == MessageKind.SEIZURE:
        related.append("seizure")
    if related:
        shown = Message.objects.select_related("sender", "alert", *related).get(pk=shown.pk)
        if shown.kind == MessageKind.ALERT:
            shown.subjects = list(AlertSubject.objects.filter(message=shown))
    message.shown = shown
    return message


def thread_for(*, user: User, alert: Message) -> list[Message]:
    """The Responses and Seizures about an Alert that the user may read, oldest first."""
    return list(
        Message.objects.filter(alert=alert)
        .filter(Q(sender=user) | Q(deliveries__recipient=user))
        .select_related("sender", "response_details", "seizure")
        .distinct()
        .order_by("id")
    )


@dataclass(frozen=True)
class ThreadSummary:
    responses: int
    positive: int
    seizures: int


def thread_summary(thread: list[Message]) -> ThreadSummary:
    responses = [m for m in thread if m.kind == MessageKind.RESPONSE]
    return ThreadSummary(
        responses=len(responses),
        positive=sum(1 for m in responses if m.response_details.outcome == Outcome.POSITIVE),
        seizures=sum(1 for m in thread if m.kind == MessageKind.SEIZURE),
    )


def ack_due_at(message: Message) -> datetime:
    """When the recipients' acknowledgement of an Alert is due (per-operation deadlines)."""
    operation = message.operation
    minutes = (
        operation.ack_minutes_urgent
        if message.priority == Priority.URGENT
        else operation.ack_minutes_normal
    )
    return message.created_at + timedelta(minutes=minutes)


def delivery_is_overdue(delivery: Delivery, due_at: datetime, now: datetime) -> bool:
    """Not acknowledged by the deadline: still waiting past it, or acknowledged late."""
    if delivery.acknowledged_at is None:
        return now > due_at
    return delivery.acknowledged_at > due_at


@dataclass
class AlertFollowUp:
    alert: Message
    due_at: datetime
    deliveries: list[Delivery]
    overdue: int
    acknowledged: int
    answered: int


def followup_board(*, user: User, membership: Membership, now: datetime | None = None):
    """Every Alert of the operation with each recipient's progress, for its OCUs only."""
    if membership.role != Role.OCU or membership.user_id != user.pk:
        raise PermissionDenied
    now = now or timezone.now()
    alerts = (
        Message.objects.filter(operation_id=membership.operation_id, kind=MessageKind.ALERT)
        .select_related("sender", "operation", "alert_details")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.select_related("recipient").order_by(
                    "recipient__country", "recipient__full_name"
                ),
            )
        )
        .order_by("-id")
    )
    board = []
    for alert in alerts:
        due = ack_due_at(alert)
        deliveries = list(alert.deliveries.all())
        for delivery in deliveries:
            delivery.overdue = delivery_is_overdue(delivery, due, now)
        board.append(
            AlertFollowUp(
                alert=alert,
                due_at=due,
                deliveries=deliveries,
                overdue=sum(d.overdue for d in deliveries),
                acknowledged=sum(d.acknowledged_at is not None for d in deliveries),
                answered=sum(d.answered_at is not None for d in deliveries),
            )
        )
    return board


# --- the messages database: search through the blind index ---------------------------------

SEARCH_PAGE_SIZE = 50
ACK_STATES = ("acknowledged", "pending")


def _visible_in(*, user: User, membership: Membership) -> QuerySet[Message]:
    """The messages of the membership's operation that the user may read (sender or
    recipient, active member); nothing for anyone else."""
    if (
        not user.is_authenticated
        or not user.is_active
        or membership.user_id != user.pk
        or not membership.active
    ):
        return Message.objects.none()
    mine = Delivery.objects.filter(message=OuterRef("pk"), recipient=user)
    return Message.objects.filter(operation_id=membership.operation_id).filter(
        Q(sender=user) | Exists(mine)
    )


def _has_token(operation_id: int, field: str, digest: str) -> Exists:
    return Exists(
        SearchToken.objects.filter(
            operation_id=operation_id, field=field, digest=digest, message=OuterRef("pk")
        )
    )


def _choice(value: str, choices, field: str) -> str:
    if value not in choices:
        raise DomainError(_("Choose one of the listed values."), field=field, code="invalid_choice")
    return value


def _identifier_digest(field: str, value: str) -> str:
    digest = search_index.digest(field, value)
    if digest is None:
        raise DomainError(_("Enter a value to search for."), field=field, code="empty")
    return digest


def search_messages(
    *,
    user: User,
    membership: Membership,
    q: str = "",
    document: str = "",
    flight: str = "",
    name: str = "",
    pnr: str = "",
    kind: str = "",
    sender: str = "",
    sender_country: str = "",
    airport: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    priority: str = "",
    handling_code: str = "",
    ack_state: str = "",
    after: int = 0,
) -> QuerySet[Message]:
    """The messages of one operation the user may read that match every filter given, newest
    first. ``q``: every word must be among the message's subject and body keywords; the
    identifiers (document number, flight, name, PNR) match through their blind index (a name
    of several words matches the whole name, one word any word of a name). ``after``: only
    messages older than that id (the next page of the API). Bad values raise ``DomainError``
    naming the field."""
    qs = _visible_in(user=user, membership=membership)
    operation_id = membership.operation_id
    if q.strip():
        words = tokens(q)
        if not words:
            raise DomainError(
                _("Search for words of at least two letters."), field="q", code="too_short"
            )
        for word in sorted(words):
            qs = qs.filter(
                _has_token(
                    operation_id,
                    SearchField.KEYWORD,
                    blind_index(word, purpose=SearchField.KEYWORD.value),
                )
            )
    for field, value in (
        (SearchField.DOCUMENT, document),
        (SearchField.FLIGHT, flight),
        (SearchField.NAME, name),
        (SearchField.PNR, pnr),
    ):
        if value.strip():
            qs = qs.filter(_has_token(operation_id, field, _identifier_digest(field, value)))
    if kind:
        qs = qs.filter(kind=_choice(kind, MessageKind.values, "kind"))
    if priority:
        qs = qs.filter(priority=_choice(priority, Priority.values, "priority"))
    if handling_code:
        qs = qs.filter(handling_code=_choice(handling_code, HandlingCode.values, "handling_code"))
    if sender.strip():
        qs = qs.filter(sender__username=sender.strip())
    if sender_country.strip():
        qs = qs.filter(sender__country=sender_country.strip().upper())
    if airport.strip():
        code = airport.strip().upper()
        qs = qs.filter(
            Q(sender__airport=code)
            | Q(alert_details__departure_airport=code)
            | Q(alert_details__destination_airport=code)
            | Q(seizure__airport=code)
        )
    if date_from and date_to and date_from > date_to:
        raise DomainError(_("The start date is after the end date."), field="date_to")
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    if ack_state:
        _choice(ack_state, ACK_STATES, "ack")
        acknowledged = Delivery.objects.filter(
            message=OuterRef("pk"), recipient=user, acknowledged_at__isnull=False
        )
        if ack_state == "acknowledged":
            qs = qs.filter(Exists(acknowledged))
        else:
            pending = Delivery.objects.filter(
                message=OuterRef("pk"), recipient=user, acknowledged_at__isnull=True
            )
            qs = qs.filter(Exists(pending), kind=MessageKind.ALERT)
    if after:
        qs = qs.filter(id__lt=after)
    return qs.select_related("sender", "operation").order_by("-id")


@dataclass(frozen=True)
class CrossReference:
    field: str  # "document" or "flight"
    value: str  # as shown on the Alert (the search page normalises it)
    count: int


def cross_references(*, user: User, membership: Membership, alert: Message) -> list[CrossReference]:
    """For an Alert loaded by ``message_with_details``: how many earlier messages the user may
    read in the operation share each of its document numbers and its flight number."""
    shown = alert.shown
    values: list[tuple[str, str]] = []
    if shown.kind == MessageKind.ALERT:
        values.append((SearchField.FLIGHT, shown.alert_details.flight_number))
        values += [
            (SearchField.DOCUMENT, s.document_number) for s in shown.subjects if s.document_number
        ]
    visible = _visible_in(user=user, membership=membership).filter(id__lt=shown.pk)
    references, seen = [], set()
    for field, value in values:
        digest = search_index.digest(field, value)
        if digest is None or (field, digest) in seen:
            continue
        seen.add((field, digest))
        count = visible.filter(_has_token(membership.operation_id, field, digest)).count()
        if count:
            references.append(CrossReference(field=str(field), value=value, count=count))
    return references
