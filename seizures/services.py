"""Writes of the seizure register."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.airports import airport as find_airport
from accounts.audit import audit_record
from accounts.models import Operation, Role, User
from accounts.selectors import memberships_of
from aircop.exceptions import Conflict, DomainError, NotFound
from messaging import attachments as stored_files
from messaging.attachments import CheckedUpload, Upload
from messaging.formatted import SeizureInput, validate_seizure
from messaging.models import Message, MessageKind
from messaging.selectors import message_for

from . import photos as seizure_photos
from .models import Seizure, SeizureRevision
from .selectors import seizures_visible_to


@transaction.atomic
def seizure_record(
    *,
    reported_by: User,
    operation: Operation | None,
    data,  # messaging.formatted.SeizureInput, already validated
    message=None,
    alert=None,
    notes: str = "",
    photos: Sequence[CheckedUpload] = (),
    written: list[Path] | None = None,
) -> Seizure:
    """Store one seizure (validated input) and its photos (checked files; each path written
    is appended to ``written``), and audit it; the country is the airport's."""
    seizure = Seizure.objects.create(
        operation=operation,
        reported_by=reported_by,
        message=message,
        alert=alert,
        seized_at=data.seized_at,
        airport=data.airport,
        country=find_airport(data.airport).country,
        commodity=data.commodity,
        quantity=data.quantity,
        unit=data.unit,
        currency=data.currency,
        amount=data.amount,
        usd_value=data.usd_value,
        concealment=data.concealment,
        detection=data.detection,
        flight_number=data.flight_number,
        departure=data.departure,
        transit=list(data.transit),
        destination=data.destination,
        persons_arrested=data.persons_arrested,
        arrested_nationalities=list(data.arrested_nationalities),
        companies_incriminated=data.companies_incriminated,
        notes=notes,
    )
    stored = seizure_photos.photos_store(
        seizure=seizure,
        checked=photos,
        added_by=reported_by,
        written=written if written is not None else [],
    )
    audit_record(
        actor=reported_by,
        action="seizure.recorded",
        operation=operation,
        target=seizure,
        data={
            "commodity": seizure.commodity,
            "quantity": str(seizure.quantity),
            "unit": seizure.unit,
            "airport": seizure.airport,
            "photos": [str(p.uid) for p in stored],
        },
    )
    return seizure


# --- direct entry in the register and corrections ---------------------------------------------

# The fields a correction may change, in the order the history shows them.
CORRECTABLE_FIELDS = (
    "seized_at",
    "airport",
    "country",
    "commodity",
    "quantity",
    "unit",
    "currency",
    "amount",
    "usd_value",
    "concealment",
    "detection",
    "flight_number",
    "departure",
    "transit",
    "destination",
    "persons_arrested",
    "arrested_nationalities",
    "companies_incriminated",
    "notes",
)
NOTES_MAX = 5000
# Encrypted at rest: a correction's history must not copy them in clear.
ENCRYPTED_FIELDS = frozenset({"notes"})
REASON_MAX = 300


def _check_notes(notes: str) -> None:
    if len(notes) > NOTES_MAX:
        raise DomainError(
            _("At most %(limit)d characters.") % {"limit": NOTES_MAX},
            field="notes",
            code="too_long",
        )


def _check_input(data: SeizureInput, notes: str) -> SeizureInput:
    data = validate_seizure(data)
    _check_notes(notes)
    return data


def _check_operation(*, user: User, operation: Operation | None) -> None:
    """A seizure goes into an operation only by one of its active members, while it is open."""
    if operation is None:
        return
    membership = memberships_of(user=user).filter(operation=operation).first()
    if membership is None:
        raise NotFound(_("No such operation."), field="operation")
    if not operation.accepts_messages:
        raise Conflict(
            _("This operation is closed: it no longer records seizures."),
            field="operation",
            code="operation_closed",
        )


def _visible_alert(*, user: User, operation: Operation | None, alert) -> Message:
    """The Alert a seizure comes from: one the user can read, in the seizure's operation."""
    alert_id = alert.pk if isinstance(alert, Message) else alert
    try:
        found = message_for(user=user, message_id=int(alert_id))
    except (Http404, TypeError, ValueError):
        found = None
    if (
        found is None
        or found.kind != MessageKind.ALERT
        or (operation is not None and found.operation_id != operation.pk)
    ):
        raise DomainError(
            _("No such alert in this operation."), field="alert_id", code="unknown_alert"
        )
    return found


def seizure_create(
    *,
    reported_by: User,
    operation: Operation | None,
    data: SeizureInput,
    alert=None,
    notes: str = "",
    photos: Sequence[Upload] = (),
) -> Seizure:
    """Record a seizure directly in the register (no message), in one of the reporter's open
    operations or in none, about an Alert the reporter can read (an id or the Message) if
    any; a seizure about an alert belongs to the alert's operation. The seizure and its
    photos are stored together or not at all: files written are removed on failure."""
    written: list[Path] = []
    try:
        return _seizure_create(
            reported_by=reported_by,
            operation=operation,
            data=data,
            alert=alert,
            notes=notes,
            photos=photos,
            written=written,
        )
    except BaseException:
        stored_files.remove(written)
        raise


@transaction.atomic
def _seizure_create(
    *,
    reported_by: User,
    operation: Operation | None,
    data: SeizureInput,
    alert,
    notes: str,
    photos: Sequence[Upload],
    written: list[Path],
) -> Seizure:
    notes = (notes or "").strip()
    data = _check_input(data, notes)
    checked = seizure_photos.photos_check(photos)
    if alert is not None:
        alert = _visible_alert(user=reported_by, operation=operation, alert=alert)
        if operation is None:
            operation = alert.operation
    _check_operation(user=reported_by, operation=operation)
    return seizure_record(
        reported_by=reported_by,
        operation=operation,
        data=data,
        alert=alert,
        notes=notes,
        photos=checked,
        written=written,
    )


def seizure_correctable_by(*, user: User, seizure: Seizure) -> bool:
    """Who may correct: administrators, the reporter, and the OCUs of the seizure's operation."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or seizure.reported_by_id == user.pk:
        return True
    return (
        seizure.operation_id is not None
        and memberships_of(user=user)
        .filter(operation_id=seizure.operation_id, role=Role.OCU)
        .exists()
    )


def _json_value(value):
    """A value as the history stores it: JSON, decimals and dates as strings."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def seizure_correct(
    *,
    user: User,
    seizure: Seizure,
    data: SeizureInput | None = None,
    notes: str | None = None,
    reason: str,
    photos_added: Sequence[Upload] = (),
    photos_removed: Sequence = (),
) -> Seizure:
    """Correct a seizure: validate, save, keep the changed fields before and after in a
    SeizureRevision, audit. ``data=None`` keeps the fields, ``notes=None`` the notes;
    ``photos_added`` (files) and ``photos_removed`` (uids of its photos) change its photos,
    which the revision records as ``photos`` (the uids before and after). Non-members get
    NotFound, other members PermissionDenied. Files written are removed on failure; those of
    removed photos are deleted after commit."""
    written: list[Path] = []
    try:
        return _seizure_correct(
            user=user,
            seizure=seizure,
            data=data,
            notes=notes,
            reason=reason,
            photos_added=photos_added,
            photos_removed=photos_removed,
            written=written,
        )
    except BaseException:
        stored_files.remove(written)
        raise


@transaction.atomic
def _seizure_correct(
    *,
    user: User,
    seizure: Seizure,
    data: SeizureInput | None,
    notes: str | None,
    reason: str,
    photos_added: Sequence[Upload],
    photos_removed: Sequence,
    written: list[Path],
) -> Seizure:
    if not seizures_visible_to(user=user).filter(pk=seizure.pk).exists():
        raise NotFound(_("No such seizure."))
    if not seizure_correctable_by(user=user, seizure=seizure):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the seizure is corrected."), field="reason", code="required")
    if len(reason) > REASON_MAX:
        raise DomainError(
            _("At most %(limit)d characters.") % {"limit": REASON_MAX},
            field="reason",
            code="too_long",
        )
    locked = Seizure.objects.select_for_update().get(pk=seizure.pk)
    before, after = _field_changes(locked, data=data, notes=notes)
    photos_before = [
        str(uid)
        for uid in locked.photos.filter(removed_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("uid", flat=True)
    ]
    removed = seizure_photos.photos_remove(seizure=locked, uids=photos_removed, removed_by=user)
    checked = seizure_photos.photos_check(photos_added, already=len(photos_before) - len(removed))
    if not after and not checked and not removed:
        raise DomainError(
            _("Nothing to correct: every value is the same as before."), code="unchanged"
        )
    if after:
        locked.full_clean(exclude=["operation", "reported_by", "message", "alert"])
        locked.save(update_fields=list(after))
    added = seizure_photos.photos_store(
        seizure=locked, checked=checked, added_by=user, written=written
    )
    if added or removed:
        gone = {str(p.uid) for p in removed}
        before["photos"] = photos_before
        after["photos"] = [uid for uid in photos_before if uid not in gone] + [
            str(p.uid) for p in added
        ]
    revision = SeizureRevision.objects.create(
        seizure=locked, changed_by=user, before=before, after=after, reason=reason
    )
    audit_record(
        actor=user,
        action="seizure.corrected",
        operation=locked.operation,
        target=locked,
        data={
            "revision": revision.pk,
            "fields": sorted(after),
            "reason": reason,
            "photos_added": [str(p.uid) for p in added],
            "photos_removed": [str(p.uid) for p in removed],
        },
    )
    return locked


def _field_changes(
    locked: Seizure, *, data: SeizureInput | None, notes: str | None
) -> tuple[dict, dict]:
    """Apply the new values to the (locked) seizure; the changed fields before and after."""
    new_notes = locked.notes if notes is None else notes.strip()
    if data is None:  # only the notes, if given
        if new_notes == locked.notes:
            return {}, {}
        _check_notes(new_notes)
        locked.notes = new_notes
        return {"notes": "…"}, {"notes": "…"}
    data = _check_input(data, new_notes)
    new_values = {
        **{name: getattr(data, name) for name in CORRECTABLE_FIELDS if hasattr(data, name)},
        "country": find_airport(data.airport).country,
        "transit": list(data.transit),
        "arrested_nationalities": list(data.arrested_nationalities),
        "notes": new_notes,
    }
    before, after = {}, {}
    for name in CORRECTABLE_FIELDS:
        old, new = getattr(locked, name), new_values[name]
        if name == "country":
            old = str(old)
        if old != new:
            if name in ENCRYPTED_FIELDS:  # the history says it changed, never what it says
                before[name] = after[name] = "…"
            else:
                before[name], after[name] = _json_value(old), _json_value(new)
            setattr(locked, name, new)
    return before, after
