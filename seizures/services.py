"""Writes of the seizure register."""

from __future__ import annotations

from django.db import transaction

from accounts.airports import airport as find_airport
from accounts.audit import audit_record
from accounts.models import Operation, User

from .models import Seizure


@transaction.atomic
def seizure_record(
    *,
    reported_by: User,
    operation: Operation | None,
    data,  # messaging.formatted.SeizureInput, already validated
    message=None,
    alert=None,
    notes: str = "",
) -> Seizure:
    """Store one seizure (validated input) and audit it; the country is the airport's."""
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
        },
    )
    return seizure
