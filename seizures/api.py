"""API of the seizure register: list with filters, direct entry, one seizure with its
corrections, correction. Thin: parse, call a service or selector, answer."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from decimal import Decimal

import pydantic
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.files import UploadedFile

from accounts.models import Operation
from aircop.api_auth import CORRECTS
from aircop.exceptions import DomainError, NotFound
from aircop.identifiers import MAX_ID
from messaging.formatted import MAX_COUNT, SeizureInput
from messaging.schemas import PLACE, AttachmentOut, SeizureIn
from seizures.codes import Commodity, Concealment, Detection, Unit

from . import services
from .models import Seizure, SeizurePhoto
from .register import RegisterFilters, seizures_registered
from .selectors import photos_of, seizure_for

router = Router(tags=["seizures"])

SEIZURE_FIELDS = tuple(f.name for f in dataclass_fields(SeizureInput))

CLEARABLE = frozenset({"amount", "usd_value"})


# --- schemas ----------------------------------------------------------------------------------


class SeizureCreateIn(SeizureIn):
    """The fields of a Seizure message's `seizure` part, plus where it belongs."""

    persons_arrested: int = Field(0, ge=0, le=MAX_COUNT)
    companies_incriminated: int = Field(0, ge=0, le=MAX_COUNT)
    operation: str | None = Field(None, description="Slug of one of your open operations")
    alert_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The Alert the seizure follows, if any"
    )
    notes: str = Field("", max_length=services.NOTES_MAX)


class SeizurePatchIn(Schema):
    """A correction: only the fields given change; `reason` is required."""

    reason: str = Field(min_length=1, max_length=services.REASON_MAX)
    seized_at: datetime | None = None
    airport: str | None = Field(None, pattern=r"^[A-Za-z]{3}$")
    commodity: Commodity | None = None
    quantity: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=3)
    unit: Unit | None = None
    currency: str | None = Field(None, pattern=r"^([A-Za-z]{3})?$")
    amount: Decimal | None = Field(None, gt=0, max_digits=16, decimal_places=2)
    usd_value: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    concealment: Concealment | None = None
    detection: Detection | None = None
    flight_number: str | None = Field(None, max_length=10)
    departure: str | None = PLACE
    transit: list[str] | None = Field(None, max_length=6)
    destination: str | None = PLACE
    persons_arrested: int | None = Field(None, ge=0, le=MAX_COUNT)
    arrested_nationalities: list[str] | None = None
    companies_incriminated: int | None = Field(None, ge=0, le=MAX_COUNT)
    notes: str | None = Field(None, max_length=services.NOTES_MAX)


class SeizureFiltersIn(Schema):
    operation: str | None = Field(None, description="Operation slug, or `none`")
    commodity: Commodity | None = None
    date_from: date | None = Field(None, alias="from", description="Seized on or after (date)")
    date_to: date | None = Field(None, alias="to", description="Seized on or before (date)")
    airport: str | None = Field(None, pattern=r"^[A-Za-z]{3}$")
    country: str | None = Field(None, pattern=r"^[A-Za-z]{2}$", description="Of the seizure")
    route_country: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="Of the departure, a transit or destination"
    )
    detection: Detection | None = None
    after: int = Field(0, ge=0, le=MAX_ID, description="Only seizures with an id above this")
    limit: int = Field(50, ge=1, le=200)


class SeizureOut(Schema):
    id: int
    operation: str | None = Field(description="Operation slug")
    reported_by: str
    message_id: int | None
    alert_id: int | None
    seized_at: datetime
    airport: str
    country: str
    commodity: Commodity
    quantity: Decimal
    unit: Unit
    currency: str
    amount: Decimal | None
    usd_value: Decimal | None
    concealment: Concealment
    detection: Detection
    flight_number: str
    departure: str
    transit: list[str]
    destination: str
    persons_arrested: int
    arrested_nationalities: list[str]
    companies_incriminated: int
    notes: str
    created_at: datetime


class RevisionOut(Schema):
    changed_by: str
    changed_at: datetime
    reason: str
    before: dict
    after: dict


class SeizureDetailOut(SeizureOut):
    revisions: list[RevisionOut]
    photos: list[AttachmentOut] = Field(
        description="Photos added in the register (those of a Seizure message are its attachments)"
    )


class SeizureListOut(Schema):
    seizures: list[SeizureOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end")


class CreatedOut(Schema):
    id: int


# --- conversion -------------------------------------------------------------------------------


@contextmanager
def _flat_fields():
    """The domain names seizure fields `seizure.quantity`; here they are at the top level."""
    try:
        yield
    except NotFound:
        raise
    except DomainError as error:
        if error.field:
            error.field = error.field.removeprefix("seizure.")
        raise


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seizure_input(values: dict) -> SeizureInput:
    data = {name: values[name] for name in SEIZURE_FIELDS if name in values}
    data["seized_at"] = _aware(data["seized_at"])
    data["transit"] = tuple(data.get("transit") or ())
    data["arrested_nationalities"] = tuple(data.get("arrested_nationalities") or ())
    for name in ("currency", "flight_number", "departure", "destination"):
        data[name] = data.get(name) or ""
    return SeizureInput(**data)


def _current_values(seizure: Seizure) -> dict:
    return {name: getattr(seizure, name) for name in SEIZURE_FIELDS}


def _out(seizure: Seizure) -> dict:
    return {
        "id": seizure.id,
        "operation": seizure.operation.slug if seizure.operation_id else None,
        "reported_by": seizure.reported_by.username,
        "message_id": seizure.message_id,
        "alert_id": seizure.alert_id,
        **_current_values(seizure),
        "country": str(seizure.country),
        "notes": seizure.notes,
        "created_at": seizure.created_at,
    }


def photo_out(photo: SeizurePhoto) -> AttachmentOut:
    args = [photo.seizure_id, photo.uid]
    return AttachmentOut(
        uid=str(photo.uid),
        filename=photo.filename,
        content_type=photo.content_type,
        size=photo.size,
        url=reverse("api:seizure_photo_download", args=args),
        thumbnail_url=(
            reverse("api:seizure_photo_thumbnail", args=args) if photo.has_thumbnail else None
        ),
    )


# --- endpoints --------------------------------------------------------------------------------


@router.get("/seizures", response=SeizureListOut, summary="The seizures I may see")
def seizure_list(request, filters: Query[SeizureFiltersIn]):
    """Oldest first, `limit` at a time; follow `next_after` until it is null."""
    qs = seizures_registered(
        user=request.auth,
        filters=RegisterFilters(
            operation=filters.operation or "",
            date_from=filters.date_from,
            date_to=filters.date_to,
            commodity=filters.commodity or "",
            airport=filters.airport or "",
            country=filters.country or "",
            route_country=filters.route_country or "",
            detection=filters.detection or "",
        ),
    )
    rows = list(qs.filter(id__gt=filters.after).order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "seizures": [_out(s) for s in rows],
        "next_after": rows[-1].id if more else None,
    }


@router.post("/seizures", response={201: CreatedOut}, summary="Record a seizure (no message)")
def seizure_create(request, payload: SeizureCreateIn):
    return _create(request, payload, [])


_CREATE_IN = pydantic.TypeAdapter(SeizureCreateIn)


@router.post(
    "/seizures/multipart",
    response={201: CreatedOut},
    summary="Record a seizure with photos (multipart/form-data)",
)
def seizure_create_multipart(request, payload: Form[str], photos: File[list[UploadedFile]] = None):
    """`payload`: the JSON body of `POST /seizures`, as a string; `photos`: image files
    (JPEG, PNG, GIF, WebP, HEIC, decided by their content), repeated; 25 MB per file, 100 MB
    together. The seizure and its photos are stored together or not at all."""
    try:
        values = _CREATE_IN.validate_python(json.loads(payload))
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
    return _create(request, values, photos or [])


def _create(request, payload: SeizureCreateIn, photos):
    operation = None
    if payload.operation:
        operation = Operation.objects.filter(slug=payload.operation).first()
        if operation is None:
            raise NotFound(_("No such operation."), field="operation")
    with _flat_fields():
        seizure = services.seizure_create(
            reported_by=request.auth,
            operation=operation,
            data=_seizure_input(payload.dict()),
            alert=payload.alert_id,
            notes=payload.notes,
            photos=photos,
        )
    return Status(201, CreatedOut(id=seizure.id))


@router.get("/seizures/{int:seizure_id}", response=SeizureDetailOut, summary="One seizure")
def seizure_detail(request, seizure_id: int):
    seizure = seizure_for(user=request.auth, seizure_id=seizure_id)
    return {
        **_out(seizure),
        "revisions": [
            {
                "changed_by": r.changed_by.username,
                "changed_at": r.changed_at,
                "reason": r.reason,
                "before": r.before,
                "after": r.after,
            }
            for r in seizure.revisions.select_related("changed_by")
        ],
        "photos": [photo_out(p) for p in photos_of(seizure=seizure)],
    }


@router.patch(
    "/seizures/{int:seizure_id}",
    response=SeizureDetailOut,
    summary="Correct a seizure",
    auth=CORRECTS,
)
def seizure_correct(request, seizure_id: int, payload: SeizurePatchIn):
    """Only the fields given change. The reporter, the operation's OCUs and administrators may
    correct; other members get 403, anyone else 404."""
    seizure = seizure_for(user=request.auth, seizure_id=seizure_id)
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason")
    notes = changes.pop("notes", None)
    # null clears the optional amounts; for the other fields it means "unchanged".
    given = {k: v for k, v in changes.items() if v is not None or k in CLEARABLE}
    values = {**_current_values(seizure), **given}
    with _flat_fields():
        services.seizure_correct(
            user=request.auth,
            seizure=seizure,
            data=_seizure_input(values),
            notes=notes,
            reason=reason,
        )
    return seizure_detail(request, seizure_id)
