"""Every write of messaging: send (all kinds), forward, acknowledge, mark delivered and read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record, chain_lock_sql
from accounts.members import share_lock_operation
from accounts.models import Membership, Operation, Role, User
from aircop.exceptions import Conflict, DomainError, NotFound
from seizures.services import seizure_record

from . import attachments as attachment_files
from . import realtime, search_index
from .codes import HandlingCode, Priority
from .formatted import (
    AlertInput,
    ResponseInput,
    SeizureInput,
    validate_alert,
    validate_response,
    validate_seizure,
)
from .models import (
    BODY_MAX,
    AlertDetails,
    AlertSubject,
    Attachment,
    Delivery,
    Message,
    MessageKind,
    ResponseDetails,
    SearchToken,
)
from .routing import Targets, resolve_recipients, resolve_reply_recipients

DETAILS_BY_KIND = {
    MessageKind.ALERT: ("alert", AlertInput),
    MessageKind.RESPONSE: ("response", ResponseInput),
    MessageKind.SEIZURE: ("seizure", SeizureInput),
}
# Rows per INSERT of deliveries: a broadcast to thousands goes in a few statements of bounded
# length.
DELIVERY_ROWS_PER_INSERT = 1000


def _sender_membership_in_open_operation(*, sender: User, operation: Operation) -> Membership:
    """The sender's active membership in ``operation``, read once the operation is share-locked
    (``share_lock_operation``): 404 for a non-member, then 409 when the operation accepts no
    message. Only what a concurrent change may have altered is read again (the operation's
    status, the membership's role); its user is ``sender``, its operation ``operation`` (whose
    status is set to the one just read)."""
    status, membership = share_lock_operation(operation, member=sender)
    if status is None or membership is None:
        raise NotFound(_("No such operation."), field="operation")
    operation.status = status
    if not operation.accepts_messages:
        raise Conflict(
            _("The operation is %(status)s: it accepts no new message.")
            % {"status": operation.get_status_display().lower()},
            field="operation",
            code="operation_closed",
        )
    return membership


def _validate_common(
    *, kind: str, subject: str, body: str, priority: str, handling_code: str, handling_note: str
) -> None:
    if kind not in MessageKind.values:
        raise DomainError(_("Unknown message kind."), field="kind")
    if kind == MessageKind.FREE_TEXT and not subject.strip():
        raise DomainError(_("The subject is required."), field="subject")
    if len(subject) > Message._meta.get_field("subject").max_length:
        raise DomainError(_("The subject is too long (200 characters at most)."), field="subject")
    if kind == MessageKind.FREE_TEXT and not body.strip():
        raise DomainError(_("The message is empty."), field="body")
    if len(body) > BODY_MAX:
        raise DomainError(
            _("The message has %(length)d characters; the limit is %(limit)d.")
            % {"length": len(body), "limit": BODY_MAX},
            field="body",
            code="too_long",
        )
    if priority not in Priority.values:
        raise DomainError(_("Choose one of the listed values."), field="priority")
    if handling_code not in HandlingCode.values:
        raise DomainError(_("Choose one of the listed values."), field="handling_code")
    if handling_code == HandlingCode.H3 and not handling_note.strip():
        raise DomainError(_("Describe the restriction of handling code H3."), field="handling_note")


def _visible_alert(*, user: User, operation: Operation, alert_id: int | None) -> Message:
    """The Alert a Response or Seizure refers to: one the sender can see, in this operation."""
    alert = None
    if alert_id is not None:
        alert = (
            Message.objects.filter(pk=alert_id, kind=MessageKind.ALERT, operation=operation)
            .filter(Q(sender=user) | Q(deliveries__recipient=user))
            .select_related("sender")
            .distinct()
            .first()
        )
    if alert is None:
        raise DomainError(
            _("No such alert in this operation."), field="alert_id", code="unknown_alert"
        )
    return alert


def _default_subject(kind: str, details, alert: Message | None) -> str:
    """A language-neutral subject when the sender leaves it empty."""
    if kind == MessageKind.ALERT:
        return (
            f"{details.flight_number} {details.departure_airport}→{details.destination_airport}"
            f" {details.flight_date.isoformat()}"
        )
    if alert is not None:
        return f"Re: {alert.subject}"[:200]
    if kind == MessageKind.SEIZURE:
        return f"{details.airport} {details.quantity.normalize():f} {details.unit}"
    return ""


def message_send(
    *,
    sender: User,
    operation: Operation,
    kind: str = MessageKind.FREE_TEXT,
    subject: str = "",
    body: str = "",
    targets: Targets | None = None,
    priority: str = Priority.NORMAL,
    handling_code: str = HandlingCode.H0,
    handling_note: str = "",
    details: AlertInput | ResponseInput | SeizureInput | None = None,
    alert_id: int | None = None,
    attachments: Sequence[attachment_files.Upload] = (),
) -> Message:
    """Store a message of any kind, its formatted part, the seizure record of a Seizure, one
    delivery per recipient, its attachments (encrypted files) and an audit row; notify the
    recipients after commit. Message and attachments are stored together or not at all: the
    files written are removed when the transaction fails."""
    written: list[Path] = []
    try:
        return _message_send(
            sender=sender,
            operation=operation,
            kind=kind,
            subject=subject,
            body=body,
            targets=targets,
            priority=priority,
            handling_code=handling_code,
            handling_note=handling_note,
            details=details,
            alert_id=alert_id,
            attachments=attachments,
            written=written,
        )
    except BaseException:
        attachment_files.remove(written)
        raise


@transaction.atomic
def _message_send(
    *,
    sender: User,
    operation: Operation,
    kind: str,
    subject: str,
    body: str,
    targets: Targets | None,
    priority: str,
    handling_code: str,
    handling_note: str,
    details: AlertInput | ResponseInput | SeizureInput | None,
    alert_id: int | None,
    attachments: Sequence[attachment_files.Upload],
    written: list[Path],
) -> Message:
    checked = attachment_files.check_uploads(list(attachments))
    membership = _sender_membership_in_open_operation(sender=sender, operation=operation)
    operation = membership.operation
    _validate_common(
        kind=kind,
        subject=subject,
        body=body,
        priority=priority,
        handling_code=handling_code,
        handling_note=handling_note,
    )
    alert = None
    if kind == MessageKind.FREE_TEXT:
        if details is not None or alert_id is not None:
            raise DomainError(_("A plain message has no formatted part."), field="kind")
    else:
        name, expected = DETAILS_BY_KIND[kind]
        if not isinstance(details, expected):
            raise DomainError(_("This field is required."), field=name, code="required")
        if kind == MessageKind.ALERT and alert_id is not None:
            raise DomainError(_("An alert does not refer to another alert."), field="alert_id")
        if kind == MessageKind.RESPONSE or alert_id is not None:
            alert = _visible_alert(user=sender, operation=operation, alert_id=alert_id)
        details = {
            MessageKind.ALERT: validate_alert,
            MessageKind.RESPONSE: validate_response,
            MessageKind.SEIZURE: validate_seizure,
        }[kind](details)

    targets = targets or Targets()
    if alert is not None:
        recipients = resolve_reply_recipients(membership, alert, targets)
    elif kind == MessageKind.SEIZURE and not targets.chosen():
        recipients = resolve_recipients(membership, Targets(ocus=True))
    else:
        recipients = resolve_recipients(membership, targets)

    # The alert's delivery row is locked before the chain's lock (_store_deliveries), as every
    # transaction that acknowledges it does: the same order everywhere, no deadlock.
    answered = _alert_delivery_locked(alert=alert, user=sender) if alert is not None else None
    message = Message.objects.create(
        operation=operation,
        sender=sender,
        kind=kind,
        subject=subject.strip() or _default_subject(kind, details, alert),
        body=body,
        priority=priority,
        handling_code=handling_code,
        handling_note=handling_note.strip(),
        alert=alert,
        targets=targets.as_dict(),
    )
    _store_details(message=message, details=details, alert=alert, sender=sender)
    _store_search_tokens(message=message, details=details)
    stored = _store_attachments(message=message, checked=checked, written=written)
    recipient_ids = [r.user_id for r in recipients]
    positions = _store_deliveries(message=message, recipient_ids=recipient_ids)
    audit_record(
        actor=sender,
        action="message.sent",
        operation=operation,
        target=message,
        data={
            "kind": kind,
            "targets": targets.as_dict(),
            "recipients": len(recipients),
            "alert": alert.pk if alert else None,
            "attachments": [str(a.uid) for a in stored],
        },
    )
    realtime.send_event_on_commit(
        recipient_ids, realtime.message_new_event(message), positions=positions
    )
    if answered is not None:
        _mark_answered(alert=alert, delivery=answered, user=sender)
    message.sent_to = recipients
    return message


def _store_deliveries(
    *, message: Message, recipient_ids: list[int]
) -> dict[int, realtime.Position]:
    """One delivery per recipient, numbered in commit order; each recipient's position: the
    new delivery's id and the id of their delivery before it (0 for none).

    The audit chain's lock comes first (``chain_lock_sql``, held to commit): delivery ids rise
    in the order their transactions commit, so a client that resumes after the last message it
    got never passes one committed later (docs/architecture.md, "Ordering"). The rows are bare
    (message, recipient) pairs, a thousand to an INSERT: their dates start empty, and a
    broadcast to a thousand officers builds no model instances. On PostgreSQL the lock, the
    previous ids and the inserts go in one round trip, the less time the lock is held; every
    value in them is an integer (hence no parameters, and the simple query protocol)."""
    table = Delivery._meta.db_table
    ids = sorted({int(user_id) for user_id in recipient_ids})
    if not ids:
        return {}
    statements = [
        f"SELECT u.id, (SELECT d.id FROM {table} d WHERE d.recipient_id = u.id"  # noqa: S608
        f" ORDER BY d.id DESC LIMIT 1) FROM {User._meta.db_table} u"
        f" WHERE u.id IN ({', '.join(map(str, ids))})"
    ]
    for start in range(0, len(ids), DELIVERY_ROWS_PER_INSERT):
        rows = ", ".join(
            f"({int(message.pk)}, {user_id})"
            for user_id in ids[start : start + DELIVERY_ROWS_PER_INSERT]
        )
        statements.append(
            f"INSERT INTO {table} (message_id, recipient_id) VALUES {rows}"  # noqa: S608
            " RETURNING recipient_id, id"
        )
    connection = transaction.get_connection()
    results = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("; ".join([chain_lock_sql(), *statements]))
            while cursor.nextset():  # past the lock's result: the previous ids, then the rows
                results.append(cursor.fetchall())
        else:  # SQLite: the transaction holds the write lock since BEGIN
            for statement in statements:
                cursor.execute(statement)
                results.append(cursor.fetchall())
    previous = {user_id: latest or 0 for user_id, latest in results[0]}
    return {
        user_id: realtime.Position(delivery_id, previous[user_id])
        for inserted in results[1:]
        for user_id, delivery_id in inserted
    }


def _store_search_tokens(*, message: Message, details) -> None:
    """The message's blind index (keyed digests only), from what was just validated."""
    subjects = details.subjects if isinstance(details, AlertInput) else ()
    flights = [details.flight_number] if isinstance(details, AlertInput | SeizureInput) else []
    SearchToken.objects.bulk_create(
        search_index.token_rows(message, subjects=subjects, flights=flights)
    )


def _store_attachments(
    *, message: Message, checked: list[attachment_files.CheckedUpload], written: list[Path]
) -> list[Attachment]:
    stored = []
    for position, upload in enumerate(checked):
        attachment = Attachment(
            message=message,
            position=position,
            filename=upload.filename,
            content_type=upload.content_type,
        )
        attachment_files.store(attachment, upload, written=written)
        stored.append(attachment)
    Attachment.objects.bulk_create(stored)
    return stored


def attachment_download(
    *, user: User, attachment: Attachment, thumbnail: bool = False
) -> Iterator[bytes]:
    """The plaintext chunks of an attachment (or its thumbnail) the user may read (see
    ``selectors.attachment_for``); writes an audit row. A file that fails authentication
    raises ``crypto.DecryptionError``, before or while streaming, never yields wrong bytes."""
    chunks = attachment_files.open_plaintext(attachment, thumbnail=thumbnail)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="attachment.downloaded",
            operation=attachment.message.operation,
            target=attachment,
            data={"message": attachment.message_id, "thumbnail": thumbnail},
        )
    return chunks


def _store_details(*, message: Message, details, alert: Message | None, sender: User) -> None:
    if isinstance(details, AlertInput):
        AlertDetails.objects.create(
            message=message,
            flight_number=details.flight_number,
            airline=details.airline,
            flight_date=details.flight_date,
            departure_airport=details.departure_airport,
            transit_airports=list(details.transit_airports),
            destination_airport=details.destination_airport,
            suspected_commodity=details.suspected_commodity,
            risk_indicators=list(details.risk_indicators),
            requested_action=details.requested_action,
            air_waybill=details.air_waybill,
            consignor=details.consignor,
            consignee=details.consignee,
            declared_goods=details.declared_goods,
        )
        AlertSubject.objects.bulk_create(
            [
                AlertSubject(
                    message=message,
                    position=i,
                    name=s.name,
                    date_of_birth=s.date_of_birth,
                    nationality=s.nationality,
                    document_type=s.document_type,
                    document_number=s.document_number,
                    pnr=s.pnr,
                    seat=s.seat,
                )
                for i, s in enumerate(details.subjects)
            ]
        )
    elif isinstance(details, ResponseInput):
        ResponseDetails.objects.create(
            message=message,
            outcome=details.outcome,
            not_controlled_reason=details.not_controlled_reason,
            action_taken=details.action_taken,
        )
    elif isinstance(details, SeizureInput):
        seizure_record(
            reported_by=sender,
            operation=message.operation,
            data=details,
            message=message,
            alert=alert,
            notes=message.body,
        )


def _delivery_audience(message: Message, recipient_id: int) -> set[int]:
    """Who hears about a delivery's progress: the recipient's own tabs and, for an Alert, its
    sender and the operation's OCUs (the follow-up board)."""
    audience = {recipient_id}
    if message.kind == MessageKind.ALERT:
        audience.add(message.sender_id)
        audience.update(
            Membership.objects.filter(
                operation_id=message.operation_id, role=Role.OCU, active=True
            ).values_list("user_id", flat=True)
        )
    return audience


def _notify_delivery(event_type: str, message: Message, delivery: Delivery, user: User) -> None:
    realtime.send_event_on_commit(
        _delivery_audience(message, user.pk),
        realtime.delivery_event(event_type, message, delivery, user),
    )


def _alert_delivery_locked(*, alert: Message, user: User) -> Delivery | None:
    """The user's delivery of ``alert``, locked, when it is still to be answered."""
    delivery = Delivery.objects.select_for_update().filter(message=alert, recipient=user).first()
    return delivery if delivery is not None and delivery.answered_at is None else None


def _mark_answered(*, alert: Message, delivery: Delivery, user: User) -> None:
    now = timezone.now()
    acknowledging = delivery.acknowledged_at is None
    delivery.answered_at = now
    delivery.acknowledged_at = delivery.acknowledged_at or now
    delivery.read_at = delivery.read_at or now
    delivery.delivered_at = delivery.delivered_at or now
    delivery.save(update_fields=["answered_at", "acknowledged_at", "read_at", "delivered_at"])
    if acknowledging:
        audit_record(
            actor=user,
            action="alert.acknowledged",
            operation=alert.operation,
            target=alert,
            data={"by_answer": True},
        )
    _notify_delivery("delivery.acknowledged", alert, delivery, user)


@transaction.atomic
def message_forward(
    *, forwarder: User, message: Message, targets: Targets, note: str = ""
) -> Message:
    """Forward a message the forwarder can read to other members of its operation.

    Handling code H2 (no onward sharing without the sender's consent) refuses it unless the
    forwarder is the original sender. The forward carries the original's handling code."""
    original = message.forwarded_from or message
    if original.handling_code == HandlingCode.H2 and original.sender_id != forwarder.pk:
        raise DomainError(
            _("Handling code H2: only the sender may share this message further."),
            field="handling_code",
            code="h2_forward_refused",
        )
    forward = message_send(
        sender=forwarder,
        operation=message.operation,
        subject=f"Fwd: {original.subject}"[:200],
        body=note or _("(forwarded without comment)"),
        targets=targets,
        handling_code=original.handling_code,
        handling_note=original.handling_note,
    )
    Message.objects.filter(pk=forward.pk).update(forwarded_from=original)
    forward.forwarded_from = original
    audit_record(
        actor=forwarder,
        action="message.forwarded",
        operation=message.operation,
        target=original,
        data={"forward": forward.pk},
    )
    return forward


@transaction.atomic
def delivery_acknowledge(*, user: User, message: Message) -> Delivery:
    """A recipient acknowledges an Alert (once; later calls change nothing)."""
    if message.kind != MessageKind.ALERT:
        raise DomainError(_("Only alerts are acknowledged."), field="message", code="not_an_alert")
    delivery = Delivery.objects.select_for_update().filter(message=message, recipient=user).first()
    if delivery is None:
        raise DomainError(
            _("Only a recipient acknowledges an alert."), field="message", code="not_a_recipient"
        )
    if delivery.acknowledged_at is not None:
        return delivery
    now = timezone.now()
    delivery.acknowledged_at = now
    delivery.read_at = delivery.read_at or now
    delivery.delivered_at = delivery.delivered_at or now
    delivery.save(update_fields=["acknowledged_at", "read_at", "delivered_at"])
    audit_record(
        actor=user, action="alert.acknowledged", operation=message.operation, target=message
    )
    _notify_delivery("delivery.acknowledged", message, delivery, user)
    return delivery


def deliveries_mark_delivered(*, user: User, message_ids: Iterable[int]) -> int:
    """Record that these messages reached one of the user's clients (first time only)."""
    ids = list(message_ids)
    if not ids:
        return 0
    return Delivery.objects.filter(
        recipient=user, message_id__in=ids, delivered_at__isnull=True
    ).update(delivered_at=timezone.now())


def deliveries_mark_delivered_bulk(*, recipients_by_message: dict[int, set[int]]) -> int:
    """The websocket batcher's write: one UPDATE for every (message, recipients) it holds.
    Written in SQL: each ASGI process sends one every half second under load, and the ORM's
    OR of a condition per message cost several times the statement's own CPU. Every value in
    it is an integer, but the time."""
    reached = " OR ".join(
        f"(message_id = {int(message_id)}"
        f" AND recipient_id IN ({', '.join(str(int(user_id)) for user_id in sorted(user_ids))}))"
        for message_id, user_ids in sorted(recipients_by_message.items())
        if user_ids
    )
    if not reached:
        return 0
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET delivered_at = %s"  # noqa: S608
            f" WHERE delivered_at IS NULL AND ({reached})",
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.rowcount


@transaction.atomic
def delivery_mark_read(*, user: User, message: Message) -> Delivery | None:
    """Mark the user's copy read (and delivered); the sender has no delivery and gets None.

    The user's other tabs hear of it (``delivery.read``), and for an Alert its sender and the
    OCUs (follow-up board)."""
    now = timezone.now()
    delivery = Delivery.objects.select_for_update().filter(recipient=user, message=message).first()
    if delivery is None or delivery.read_at is not None:
        return delivery
    delivery.read_at = now
    delivery.delivered_at = delivery.delivered_at or now
    delivery.save(update_fields=["read_at", "delivered_at"])
    audit_record(actor=user, action="message.read", operation=message.operation, target=message)
    _notify_delivery("delivery.read", message, delivery, user)
    return delivery
