"""API of messaging: who I may address, sending every kind, the inbox, reading, acknowledging,
forwarding, and the OCU follow-up board. Thin: parse, call a service or selector, answer."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, date
from uuid import UUID

import pydantic
from django.http import Http404
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.errors import ValidationError
from ninja.files import UploadedFile

from aircop.api_auth import path_membership
from aircop.identifiers import MAX_ID
from aircop.ratelimit import hit as rate_limit_hit

from . import schemas, selectors, services
from .attachments import THUMBNAIL_CONTENT_TYPE, download_response
from .formatted import AlertInput, ResponseInput, SeizureInput, SubjectInput
from .models import Attachment, Message, MessageKind
from .routing import Targets, addressable_members, allowed_targets

router = Router(tags=["messages"])


# --- input conversion ---------------------------------------------------------------------


def _targets(to: schemas.TargetsIn | None) -> Targets | None:
    if to is None:
        return None
    return Targets(
        ocus=to.ocus,
        national_contacts=to.national_contacts,
        officers=to.officers,
        my_country=to.my_country,
        users=tuple(to.users),
    )


def _alert_input(a: schemas.AlertIn) -> AlertInput:
    return AlertInput(
        flight_number=a.flight_number,
        airline=a.airline,
        flight_date=a.flight_date,
        departure_airport=a.departure_airport,
        transit_airports=tuple(a.transit_airports),
        destination_airport=a.destination_airport,
        subjects=tuple(
            SubjectInput(
                name=s.name,
                date_of_birth=s.date_of_birth,
                nationality=s.nationality,
                document_type=s.document_type or "",
                document_number=s.document_number,
                pnr=s.pnr,
                seat=s.seat,
            )
            for s in a.subjects
        ),
        air_waybill=a.air_waybill,
        consignor=a.consignor,
        consignee=a.consignee,
        declared_goods=a.declared_goods,
        suspected_commodity=a.suspected_commodity or "",
        risk_indicators=tuple(a.risk_indicators),
        requested_action=a.requested_action,
    )


def _seizure_input(s: schemas.SeizureIn) -> SeizureInput:
    """The schema and the input share their field names."""
    data = {f.name: getattr(s, f.name) for f in fields(SeizureInput)}
    if not s.seized_at.tzinfo:
        data["seized_at"] = s.seized_at.replace(tzinfo=UTC)
    data["transit"] = tuple(s.transit)
    data["arrested_nationalities"] = tuple(s.arrested_nationalities)
    return SeizureInput(**data)


def _details(payload):
    if payload.kind == MessageKind.ALERT:
        return _alert_input(payload.alert)
    if payload.kind == MessageKind.RESPONSE:
        r = payload.response
        return ResponseInput(
            outcome=r.outcome,
            not_controlled_reason=r.not_controlled_reason,
            action_taken=r.action_taken,
        )
    if payload.kind == MessageKind.SEIZURE:
        return _seizure_input(payload.seizure)
    return None


# --- output conversion ----------------------------------------------------------------------


def _member(m) -> schemas.MemberOut:
    u = m.user
    return schemas.MemberOut(
        username=u.username,
        full_name=u.get_full_name(),
        role=m.role,
        country=str(u.country or ""),
        airport=u.airport,
    )


def _sender(u) -> schemas.SenderOut:
    return schemas.SenderOut(
        username=u.username,
        full_name=u.get_full_name(),
        country=str(u.country or ""),
        airport=u.airport,
    )


def _delivery(d) -> schemas.DeliveryOut:
    return schemas.DeliveryOut(
        username=d.recipient.username,
        full_name=d.recipient.get_full_name(),
        delivered_at=d.delivered_at,
        read_at=d.read_at,
        acknowledged_at=d.acknowledged_at,
        answered_at=d.answered_at,
    )


def _formatted_part(shown: Message) -> dict:
    if shown.kind == MessageKind.ALERT:
        a = shown.alert_details
        return {
            "alert": schemas.AlertOut(
                flight_number=a.flight_number,
                airline=a.airline,
                flight_date=a.flight_date,
                departure_airport=a.departure_airport,
                transit_airports=a.transit_airports,
                destination_airport=a.destination_airport,
                subjects=[
                    schemas.SubjectOut(
                        name=s.name,
                        date_of_birth=s.date_of_birth,
                        nationality=str(s.nationality),
                        document_type=s.document_type or None,
                        document_number=s.document_number,
                        pnr=s.pnr,
                        seat=s.seat,
                    )
                    for s in shown.subjects
                ],
                air_waybill=a.air_waybill,
                consignor=a.consignor,
                consignee=a.consignee,
                declared_goods=a.declared_goods,
                suspected_commodity=a.suspected_commodity or None,
                risk_indicators=a.risk_indicators,
                requested_action=a.requested_action,
            )
        }
    if shown.kind == MessageKind.RESPONSE:
        r = shown.response_details
        return {
            "response": schemas.ResponseIn(
                outcome=r.outcome,
                not_controlled_reason=r.not_controlled_reason,
                action_taken=r.action_taken,
            )
        }
    if shown.kind == MessageKind.SEIZURE:
        # The record's fields carry the names of the input's (and of the schema's).
        seizure = shown.seizure
        return {
            "seizure": schemas.SeizureIn(
                **{f.name: getattr(seizure, f.name) for f in fields(SeizureInput)}
            )
        }
    return {}


def _attachment(a: Attachment, message: Message) -> schemas.AttachmentOut:
    """An attachment as listed with ``message``: its links go through that message (a forward
    lists the files of the message it forwards, which its readers may not open)."""
    args = [message.pk, a.uid]
    return schemas.AttachmentOut(
        uid=str(a.uid),
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        url=reverse("api:attachment_download", args=args),
        thumbnail_url=reverse("api:attachment_thumbnail", args=args) if a.has_thumbnail else None,
    )


# --- endpoints -------------------------------------------------------------------------------


@router.get("/operations/{slug}/members", response=schemas.MembersOut, summary="Who I may address")
def members_list(request, slug: str):
    membership = path_membership(request, slug)
    return schemas.MembersOut(
        targets=sorted(t.value for t in allowed_targets(membership)),
        members=[_member(m) for m in addressable_members(membership)],
    )


@router.post(
    "/operations/{slug}/messages",
    response={201: schemas.SentOut},
    summary="Send a message: free text, Alert, Response or Seizure",
    openapi_extra={"x-rate-limit": "message_send"},  # 429 over the limit
)
def message_create(request, slug: str, payload: schemas.MessageIn):
    """`kind` selects the schema. A Response needs `alert_id` and goes, by default, to the
    Alert's sender and the OCUs; a Seizure without recipients goes to the OCUs and creates the
    seizure record."""
    rate_limit_hit(request, "message_send")
    return _send(request, slug, payload, [])


_MESSAGE_IN = pydantic.TypeAdapter(schemas.MessageIn)


@router.post(
    "/operations/{slug}/messages/multipart",
    response={201: schemas.SentOut},
    summary="Send a message with attached files (multipart/form-data)",
    openapi_extra={"x-rate-limit": "message_send"},  # 429 over the limit
)
def message_create_multipart(
    request,
    slug: str,
    payload: Form[str],
    files: File[list[UploadedFile]] = None,
):
    """`payload`: the JSON body of `POST /operations/{slug}/messages`, as a string; `files`:
    the files, repeated. The message and its files are stored together or not at all. Each
    file's type is decided by its content (images, PDF, office documents, plain text, CSV);
    25 MB per file, 100 MB per message."""
    rate_limit_hit(request, "message_send")
    try:
        message_in = _MESSAGE_IN.validate_python(json.loads(payload))
    except json.JSONDecodeError as error:
        raise ValidationError(
            [{"loc": ("form", "payload"), "msg": f"Invalid JSON: {error.msg}"}]
        ) from None
    except pydantic.ValidationError as error:
        raise ValidationError(
            [
                {"loc": ("form", "payload", *e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in error.errors(include_url=False)
            ]
        ) from None
    return _send(request, slug, message_in, files or [])


def _send(request, slug: str, payload, files):
    membership = path_membership(request, slug)
    message = services.message_send(
        sender=request.auth,
        operation=membership.operation,
        kind=payload.kind,
        subject=payload.subject,
        body=payload.body,
        targets=_targets(payload.to),
        priority=payload.priority,
        handling_code=payload.handling_code,
        handling_note=payload.handling_note,
        details=_details(payload),
        alert_id=getattr(payload, "alert_id", None),
        attachments=files,
    )
    return Status(
        201,
        schemas.SentOut(id=message.id, recipients=[r.username for r in message.sent_to]),
    )


@router.get("/operations/{slug}/inbox", response=schemas.InboxOut, summary="My inbox, as delivered")
def inbox(
    request, slug: str, after: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(50, ge=1, le=200)
):
    """Messages addressed to me after message `after` (the last one you got; 0 for all), in
    the order they were delivered, `limit` at a time. Follow `next_after` until it is null to
    read everything; keep the last id read to ask again later. Two messages can be delivered
    in the other order than their ids: keep the last message read, not the highest id."""
    membership = path_membership(request, slug)
    deliveries = list(
        selectors.inbox_after(user=request.auth, membership=membership, after=after)[: limit + 1]
    )
    page, more = deliveries[:limit], len(deliveries) > limit
    services.deliveries_mark_delivered(user=request.auth, message_ids=[d.message_id for d in page])
    return schemas.InboxOut(
        items=[
            schemas.InboxItemOut(
                id=d.message.id,
                kind=d.message.kind,
                subject=d.message.subject,
                priority=d.message.priority,
                sender=_sender(d.message.sender),
                created_at=d.message.created_at,
                read_at=d.read_at,
                acknowledged_at=d.acknowledged_at,
            )
            for d in page
        ],
        next_after=page[-1].message_id if more else None,
    )


# The query names `from` and `to` are Python keywords.
_FROM = Query(None, alias="from")
_TO = Query(None, alias="to")


@router.get(
    "/operations/{slug}/messages/search",
    response=schemas.SearchOut,
    summary="Search the messages I may read, newest first",
    openapi_extra={"x-rate-limit": "search"},  # 429 over the limit
)
def messages_search(
    request,
    slug: str,
    q: str = "",
    document: str = "",
    flight: str = "",
    name: str = "",
    pnr: str = "",
    kind: str = "",
    sender: str = "",
    sender_country: str = "",
    airport: str = "",
    date_from: date | None = _FROM,
    date_to: date | None = _TO,
    priority: str = "",
    handling_code: str = "",
    ack: str = "",
    after: int = Query(0, ge=0, le=MAX_ID),
    limit: int = Query(50, ge=1, le=200),
):
    """`q`: every word must appear in the subject or body (case and accents ignored);
    `document`, `flight`, `name`, `pnr`: an identifier (spaces and dashes ignored; a name of
    several words is matched whole); `ack`: `acknowledged` or `pending` (my delivery);
    `from`/`to`: dates (YYYY-MM-DD). Newest first, `limit` at a time; follow `next_after`."""
    rate_limit_hit(request, "search")
    membership = path_membership(request, slug)
    found = list(
        selectors.search_messages(
            user=request.auth,
            membership=membership,
            q=q,
            document=document,
            flight=flight,
            name=name,
            pnr=pnr,
            kind=kind,
            sender=sender,
            sender_country=sender_country,
            airport=airport,
            date_from=date_from,
            date_to=date_to,
            priority=priority,
            handling_code=handling_code,
            ack_state=ack,
            after=after,
        )[: limit + 1]
    )
    page, more = found[:limit], len(found) > limit
    return schemas.SearchOut(
        items=[
            schemas.SearchItemOut(
                id=m.id,
                kind=m.kind,
                subject=m.subject,
                priority=m.priority,
                handling_code=m.handling_code,
                sender=_sender(m.sender),
                created_at=m.created_at,
            )
            for m in page
        ],
        next_after=page[-1].id if more else None,
    )


@router.get(
    "/messages/{message_id}", response=schemas.MessageOut, summary="One message; marks it read"
)
def message_detail(request, message_id: int):
    user = request.auth
    message = selectors.message_with_details(
        selectors.message_for(user=user, message_id=message_id)
    )
    mine = services.delivery_mark_read(user=user, message=message)
    out = {}
    if message.sender_id == user.pk:
        out["recipients"] = [_delivery(d) for d in selectors.recipients_of(message=message)]
    if message.kind == MessageKind.ALERT:
        thread = selectors.thread_for(user=user, alert=message)
        out["thread"] = [
            schemas.ThreadItemOut(
                id=m.id,
                kind=m.kind,
                subject=m.subject,
                sender=m.sender.username,
                created_at=m.created_at,
                outcome=m.response_details.outcome if m.kind == MessageKind.RESPONSE else None,
            )
            for m in thread
        ]
        out["thread_summary"] = schemas.ThreadSummaryOut(**vars(selectors.thread_summary(thread)))
    return schemas.MessageOut(
        id=message.id,
        operation=message.operation.slug,
        kind=message.kind,
        subject=message.subject,
        body=message.body,
        priority=message.priority,
        handling_code=message.handling_code,
        handling_note=message.handling_note,
        sender=_sender(message.sender),
        created_at=message.created_at,
        targets=message.targets,
        alert_id=message.alert_id,
        forwarded_from=message.forwarded_from_id,
        my_delivery=_delivery(mine) if mine is not None else None,
        attachments=[_attachment(a, message) for a in selectors.attachments_of(message=message)],
        **_formatted_part(message.shown),
        **out,
    )


@router.get(
    "/messages/{message_id}/attachments/{uid}",
    summary="Download an attachment (sender and recipients only; audited)",
    response={200: None},
    url_name="attachment_download",
)
def attachment_download(request, message_id: int, uid: UUID):
    attachment = selectors.attachment_for(user=request.auth, message_id=message_id, uid=uid)
    chunks = services.attachment_download(user=request.auth, attachment=attachment)
    return download_response(
        chunks, content_type=attachment.content_type, filename=attachment.filename
    )


@router.get(
    "/messages/{message_id}/attachments/{uid}/thumbnail",
    summary="The thumbnail of an image attachment (JPEG, no metadata)",
    response={200: None},
    url_name="attachment_thumbnail",
)
def attachment_thumbnail(request, message_id: int, uid: UUID):
    attachment = selectors.attachment_for(user=request.auth, message_id=message_id, uid=uid)
    if not attachment.has_thumbnail:
        raise Http404
    chunks = services.attachment_download(user=request.auth, attachment=attachment, thumbnail=True)
    return download_response(chunks, content_type=THUMBNAIL_CONTENT_TYPE, filename=None)


@router.post(
    "/messages/{message_id}/ack", response=schemas.AcknowledgedOut, summary="Acknowledge an Alert"
)
def message_acknowledge(request, message_id: int):
    message = selectors.message_for(user=request.auth, message_id=message_id)
    delivery = services.delivery_acknowledge(user=request.auth, message=message)
    return schemas.AcknowledgedOut(id=message.id, acknowledged_at=delivery.acknowledged_at)


@router.post(
    "/messages/{message_id}/forward",
    response={201: schemas.SentOut},
    summary="Forward a message to other members (refused for H2 unless I sent it)",
    openapi_extra={"x-rate-limit": "message_send"},  # 429 over the limit
)
def message_forward(request, message_id: int, payload: schemas.ForwardIn):
    rate_limit_hit(request, "message_send")
    message = selectors.message_for(user=request.auth, message_id=message_id)
    forward = services.message_forward(
        forwarder=request.auth, message=message, targets=_targets(payload.to), note=payload.note
    )
    return Status(
        201,
        schemas.SentOut(id=forward.id, recipients=[r.username for r in forward.sent_to]),
    )


@router.get(
    "/operations/{slug}/follow-up",
    response=list[schemas.FollowUpOut],
    summary="OCU follow-up: every Alert with each recipient's progress",
)
def followup(request, slug: str):
    membership = path_membership(request, slug)
    board = selectors.followup_board(user=request.auth, membership=membership)
    return [
        schemas.FollowUpOut(
            id=item.alert.id,
            subject=item.alert.subject,
            priority=item.alert.priority,
            created_at=item.alert.created_at,
            due_at=item.due_at,
            overdue=item.overdue,
            acknowledged=item.acknowledged,
            answered=item.answered,
            recipients=[_delivery(d) for d in item.deliveries],
        )
        for item in board
    ]
