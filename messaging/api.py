"""API: members I may address, sending, the inbox, reading a message."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status

from accounts.selectors import membership_for

from . import selectors, services
from .models import BODY_MAX, MessageKind
from .routing import Targets, addressable_members, allowed_targets

router = Router(tags=["messages"])


class MemberOut(Schema):
    username: str
    full_name: str
    role: str
    country: str
    airport: str


class MembersOut(Schema):
    targets: list[str] = Field(description="Group targets my role may use")
    members: list[MemberOut] = Field(description="Members I may select by hand")


class TargetsIn(Schema):
    ocus: bool = False
    national_contacts: bool = False
    officers: bool = False
    my_country: bool = False
    users: list[str] = Field(default_factory=list, max_length=1000)


class MessageIn(Schema):
    kind: MessageKind = MessageKind.FREE_TEXT
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=BODY_MAX)
    to: TargetsIn


class SenderOut(Schema):
    username: str
    full_name: str
    country: str
    airport: str


class RecipientOut(Schema):
    username: str
    full_name: str
    delivered_at: datetime | None = None
    read_at: datetime | None = None


class SentOut(Schema):
    id: int
    recipients: list[str]


class InboxItemOut(Schema):
    id: int
    kind: str
    subject: str
    sender: SenderOut
    created_at: datetime
    read_at: datetime | None


class InboxOut(Schema):
    items: list[InboxItemOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end")


class MessageOut(Schema):
    id: int
    operation: str
    kind: str
    subject: str
    body: str
    sender: SenderOut
    created_at: datetime
    targets: dict
    recipients: list[RecipientOut] | None = Field(
        default=None, description="Only for the sender: who received and read it"
    )


def _member(m) -> MemberOut:
    u = m.user
    return MemberOut(
        username=u.username,
        full_name=u.get_full_name(),
        role=m.role,
        country=str(u.country or ""),
        airport=u.airport,
    )


def _sender(u) -> SenderOut:
    return SenderOut(
        username=u.username,
        full_name=u.get_full_name(),
        country=str(u.country or ""),
        airport=u.airport,
    )


@router.get("/operations/{slug}/members", response=MembersOut, summary="Who I may address")
def members_list(request, slug: str):
    membership = membership_for(user=request.auth, slug=slug)
    return MembersOut(
        targets=sorted(t.value for t in allowed_targets(membership)),
        members=[_member(m) for m in addressable_members(membership)],
    )


@router.post("/operations/{slug}/messages", response={201: SentOut}, summary="Send a message")
def message_create(request, slug: str, payload: MessageIn):
    membership = membership_for(user=request.auth, slug=slug)
    message = services.message_send(
        sender=request.auth,
        operation=membership.operation,
        kind=payload.kind,
        subject=payload.subject,
        body=payload.body,
        targets=Targets(
            ocus=payload.to.ocus,
            national_contacts=payload.to.national_contacts,
            officers=payload.to.officers,
            my_country=payload.to.my_country,
            users=tuple(payload.to.users),
        ),
    )
    return Status(
        201,
        SentOut(id=message.id, recipients=[m.user.username for m in message.recipient_memberships]),
    )


@router.get("/operations/{slug}/inbox", response=InboxOut, summary="My inbox, oldest first")
def inbox(request, slug: str, after: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=200)):
    """Messages addressed to me with an id above `after`, oldest first, `limit` at a time.
    Follow `next_after` until it is null to read everything."""
    membership = membership_for(user=request.auth, slug=slug)
    deliveries = list(
        selectors.inbox_for(user=request.auth, membership=membership, after=after).order_by(
            "message_id"
        )[: limit + 1]
    )
    page, more = deliveries[:limit], len(deliveries) > limit
    services.deliveries_mark_delivered(user=request.auth, message_ids=[d.message_id for d in page])
    return InboxOut(
        items=[
            InboxItemOut(
                id=d.message.id,
                kind=d.message.kind,
                subject=d.message.subject,
                sender=_sender(d.message.sender),
                created_at=d.message.created_at,
                read_at=d.read_at,
            )
            for d in page
        ],
        next_after=page[-1].message_id if more else None,
    )


@router.get("/messages/{message_id}", response=MessageOut, summary="One message; marks it read")
def message_detail(request, message_id: int):
    message = selectors.message_for(user=request.auth, message_id=message_id)
    services.delivery_mark_read(user=request.auth, message=message)
    recipients = None
    if message.sender_id == request.auth.pk:
        recipients = [
            RecipientOut(
                username=d.recipient.username,
                full_name=d.recipient.get_full_name(),
                delivered_at=d.delivered_at,
                read_at=d.read_at,
            )
            for d in selectors.recipients_of(message=message)
        ]
    return MessageOut(
        id=message.id,
        operation=message.operation.slug,
        kind=message.kind,
        subject=message.subject,
        body=message.body,
        sender=_sender(message.sender),
        created_at=message.created_at,
        targets=message.targets,
        recipients=recipients,
    )
