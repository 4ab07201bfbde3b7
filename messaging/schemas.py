"""JSON API schemas of messaging (django-ninja / pydantic). One schema per kind on input,
a discriminated union on ``kind``, so the OpenAPI document describes each kind."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from aircop.identifiers import MAX_ID
from seizures.codes import Commodity, Concealment, Detection, Unit

from .codes import DocumentType, HandlingCode, Outcome, Priority, RiskIndicator
from .formatted import MAX_COUNT
from .models import BODY_MAX

IATA = Field(pattern=r"^[A-Za-z]{3}$", description="IATA airport code, e.g. DSS")
PLACE = Field(
    "",
    pattern=r"^([A-Za-z]{2,3})?$",
    description="IATA airport code (3 letters) or ISO 3166 country code (2 letters)",
)


class TargetsIn(Schema):
    ocus: bool = False
    national_contacts: bool = False
    officers: bool = False
    my_country: bool = False
    users: list[str] = Field(default_factory=list, max_length=1000)


class SubjectIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    nationality: str = Field("", pattern=r"^([A-Za-z]{2})?$", description="ISO 3166 alpha-2")
    document_type: DocumentType | None = None
    document_number: str = Field("", max_length=40)
    pnr: str = Field("", max_length=40, description="Ticket number or PNR reference")
    seat: str = Field("", max_length=5)


class AlertIn(Schema):
    flight_number: str = Field(max_length=10, description="e.g. ET908")
    airline: str = Field("", max_length=80)
    flight_date: date
    departure_airport: str = IATA
    transit_airports: list[Annotated[str, IATA]] = Field(default_factory=list, max_length=6)
    destination_airport: str = IATA
    subjects: list[SubjectIn] = Field(
        default_factory=list, max_length=20, description="Passengers to control"
    )
    air_waybill: str = Field("", max_length=30, description="Shipment: air waybill number")
    consignor: str = Field("", max_length=200)
    consignee: str = Field("", max_length=200)
    declared_goods: str = Field("", max_length=300)
    suspected_commodity: Commodity | None = None
    risk_indicators: list[RiskIndicator] = Field(default_factory=list)
    requested_action: str = Field("", max_length=500)


class ResponseIn(Schema):
    outcome: Outcome
    not_controlled_reason: str = Field(
        "", max_length=300, description="Required when not controlled"
    )
    action_taken: str = Field("", max_length=500)


class SeizureIn(Schema):
    seized_at: datetime = Field(description="Date and time of the seizure (UTC if no offset)")
    airport: str = IATA
    commodity: Commodity
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=3)
    unit: Unit
    currency: str = Field("", pattern=r"^([A-Za-z]{3})?$", description="ISO 4217, for currency")
    amount: Decimal | None = Field(None, gt=0, max_digits=16, decimal_places=2)
    usd_value: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    concealment: Concealment
    detection: Detection
    flight_number: str = Field("", max_length=10)
    departure: str = PLACE
    transit: list[str] = Field(default_factory=list, max_length=6)
    destination: str = PLACE
    persons_arrested: int = Field(0, ge=0, le=MAX_COUNT)
    arrested_nationalities: list[str] = Field(default_factory=list, description="ISO 3166 codes")
    companies_incriminated: int = Field(0, ge=0, le=MAX_COUNT)


class _MessageInBase(Schema):
    subject: str = Field("", max_length=200, description="Generated when left empty")
    body: str = Field("", max_length=BODY_MAX, description="Free text, 20,000 characters at most")
    priority: Priority = Priority.NORMAL
    handling_code: HandlingCode = HandlingCode.H0
    handling_note: str = Field("", max_length=300, description="Required with H3")
    to: TargetsIn | None = None


class FreeTextMessageIn(_MessageInBase):
    kind: Literal["free_text"]
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=BODY_MAX)
    to: TargetsIn


class AlertMessageIn(_MessageInBase):
    kind: Literal["alert"]
    to: TargetsIn
    alert: AlertIn


class ResponseMessageIn(_MessageInBase):
    kind: Literal["response"]
    alert_id: int = Field(
        ge=1,
        le=MAX_ID,
        description="The Alert answered; recipients default to its sender and the OCUs",
    )
    response: ResponseIn


class SeizureMessageIn(_MessageInBase):
    kind: Literal["seizure"]
    alert_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The Alert it came from, if any"
    )
    seizure: SeizureIn


MessageIn = Annotated[
    FreeTextMessageIn | AlertMessageIn | ResponseMessageIn | SeizureMessageIn,
    Field(discriminator="kind"),
]


class ForwardIn(Schema):
    to: TargetsIn
    note: str = Field("", max_length=BODY_MAX)


# --- output -------------------------------------------------------------------------------


class MemberOut(Schema):
    username: str
    full_name: str
    role: str
    country: str
    airport: str


class MembersOut(Schema):
    targets: list[str] = Field(description="Group targets my role may use")
    members: list[MemberOut] = Field(description="Members I may select by hand")


class SenderOut(Schema):
    username: str
    full_name: str
    country: str
    airport: str


class DeliveryOut(Schema):
    username: str
    full_name: str
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None


class SentOut(Schema):
    id: int
    recipients: list[str]


class InboxItemOut(Schema):
    id: int
    kind: str
    subject: str
    priority: str
    sender: SenderOut
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None


class InboxOut(Schema):
    items: list[InboxItemOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end")


class SearchItemOut(Schema):
    id: int
    kind: str
    subject: str
    priority: str
    handling_code: str
    sender: SenderOut
    created_at: datetime


class SearchOut(Schema):
    items: list[SearchItemOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next (older) page; null at the end"
    )


class SubjectOut(SubjectIn):
    nationality: str = ""


class AlertOut(AlertIn):
    transit_airports: list[str]


class ThreadItemOut(Schema):
    id: int
    kind: str
    subject: str
    sender: str
    created_at: datetime
    outcome: str | None = None


class ThreadSummaryOut(Schema):
    responses: int
    positive: int
    seizures: int


class AttachmentOut(Schema):
    uid: str
    filename: str
    content_type: str
    size: int = Field(description="Bytes")
    url: str = Field(description="Download (authorised, audited)")
    thumbnail_url: str | None = Field(None, description="Images: a thumbnail without metadata")


class MessageOut(Schema):
    id: int
    operation: str
    kind: str
    subject: str
    body: str
    priority: str
    handling_code: str
    handling_note: str
    sender: SenderOut
    created_at: datetime
    targets: dict
    alert_id: int | None = Field(description="For a Response or Seizure: the Alert it answers")
    forwarded_from: int | None = None
    alert: AlertOut | None = None
    response: ResponseIn | None = None
    seizure: SeizureIn | None = None
    my_delivery: DeliveryOut | None = Field(None, description="My copy, when I am a recipient")
    recipients: list[DeliveryOut] | None = Field(
        default=None, description="Only for the sender: each recipient's progress"
    )
    thread: list[ThreadItemOut] | None = Field(
        None, description="For an Alert: the Responses and Seizures I can see, oldest first"
    )
    thread_summary: ThreadSummaryOut | None = None
    attachments: list[AttachmentOut] = Field(default_factory=list)


class AcknowledgedOut(Schema):
    id: int
    acknowledged_at: datetime


class FollowUpOut(Schema):
    id: int
    subject: str
    priority: str
    created_at: datetime
    due_at: datetime
    overdue: int
    acknowledged: int
    answered: int
    recipients: list[DeliveryOut]
