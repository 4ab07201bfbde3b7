"""The formatted parts of Alert, Response and Seizure messages: inputs and their domain rules.

The web forms and the JSON API both build these inputs and both go through
:func:`validate_alert`, :func:`validate_response` and :func:`validate_seizure` (called by
``message_send``), so the two edges apply the same validation. Errors name the field as the
API spells it (``alert.subjects.0.document_number``); forms take the last part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.airports import airport as find_airport
from aircop.exceptions import DomainError
from seizures.codes import CURRENCIES, Commodity, Concealment, Detection, Unit

from .codes import DocumentType, Outcome, RiskIndicator

FLIGHT_NUMBER = re.compile(r"^[A-Z0-9]{2}[A-Z]?[0-9]{1,4}[A-Z]?$")
MAX_TRANSIT = 6
MAX_SUBJECTS = 20
# Counts beyond this are typing errors (and would overflow the database's integers).
MAX_COUNT = 100_000
# Counted, never weighed: cash (its amount is in `amount`), documents, cultural goods.
COUNTED_ONLY = frozenset({Commodity.CURRENCY, Commodity.FALSE_DOCUMENTS, Commodity.CULTURAL_GOODS})


@dataclass(frozen=True)
class SubjectInput:
    name: str
    date_of_birth: date | None = None
    nationality: str = ""
    document_type: str = ""
    document_number: str = ""
    pnr: str = ""
    seat: str = ""


@dataclass(frozen=True)
class AlertInput:
    flight_number: str
    flight_date: date
    departure_airport: str
    destination_airport: str
    airline: str = ""
    transit_airports: tuple[str, ...] = ()
    subjects: tuple[SubjectInput, ...] = ()
    air_waybill: str = ""
    consignor: str = ""
    consignee: str = ""
    declared_goods: str = ""
    suspected_commodity: str = ""
    risk_indicators: tuple[str, ...] = ()
    requested_action: str = ""

    @property
    def has_shipment(self) -> bool:
        return any((self.air_waybill, self.consignor, self.consignee, self.declared_goods))


@dataclass(frozen=True)
class ResponseInput:
    outcome: str
    not_controlled_reason: str = ""
    action_taken: str = ""


@dataclass(frozen=True)
class SeizureInput:
    seized_at: datetime
    airport: str
    commodity: str
    quantity: Decimal
    unit: str
    concealment: str
    detection: str
    currency: str = ""
    amount: Decimal | None = None
    usd_value: Decimal | None = None
    flight_number: str = ""
    departure: str = ""
    transit: tuple[str, ...] = field(default_factory=tuple)
    destination: str = ""
    persons_arrested: int = 0
    arrested_nationalities: tuple[str, ...] = field(default_factory=tuple)
    companies_incriminated: int = 0


# --- normalisers --------------------------------------------------------------------------


def normalise_code(value: str) -> str:
    return (value or "").strip().upper()


def normalise_identifier(value: str) -> str:
    """Document numbers, PNRs, flight numbers: upper case, no spaces or dashes."""
    return re.sub(r"[\s\-]", "", (value or "")).upper()


def _error(field_name: str, message: str, code: str = "invalid") -> DomainError:
    return DomainError(message, field=field_name, code=code)


def _airport(value: str, field_name: str, *, required: bool = True) -> str:
    code = normalise_code(value)
    if not code and not required:
        return ""
    if not code:
        raise _error(field_name, _("This field is required."), "required")
    if find_airport(code) is None:
        raise _error(
            field_name,
            _("Unknown IATA airport code: %(code)s.") % {"code": code},
            "unknown_airport",
        )
    return code


def _country(value: str, field_name: str) -> str:
    code = normalise_code(value)
    if code and code not in countries:
        raise _error(
            field_name,
            _("Unknown ISO 3166 country code: %(code)s.") % {"code": code},
            "unknown_country",
        )
    return code


def _place(value: str, field_name: str) -> str:
    """A route stop: an IATA airport (3 letters) or an ISO 3166 country (2 letters)."""
    code = normalise_code(value)
    if not code:
        return ""
    if len(code) == 2:
        return _country(code, field_name)
    if len(code) == 3 and find_airport(code) is not None:
        return code
    raise _error(
        field_name,
        _("Give an IATA airport code or an ISO country code (%(code)s is neither).")
        % {"code": code},
        "unknown_place",
    )


def _choice(value: str, choices, field_name: str, *, required: bool = True) -> str:
    if not value and not required:
        return ""
    if value not in choices.values:
        raise _error(field_name, _("Choose one of the listed values."), "invalid_choice")
    return value


def _flight_number(value: str, field_name: str, *, required: bool = True) -> str:
    number = normalise_identifier(value)
    if not number and not required:
        return ""
    if not FLIGHT_NUMBER.match(number):
        raise _error(field_name, _("Not a flight number (e.g. ET908, AT 525)."), "invalid_flight")
    return number


def _text(value: str, field_name: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise _error(field_name, _("At most %(limit)d characters.") % {"limit": limit}, "too_long")
    return value


# --- validators ---------------------------------------------------------------------------


def validate_alert(data: AlertInput) -> AlertInput:
    today = timezone.localdate()
    if data.flight_date > today + timedelta(days=365):
        raise _error(
            "alert.flight_date", _("The flight date is more than a year ahead."), "too_far"
        )
    if len(data.transit_airports) > MAX_TRANSIT:
        raise _error(
            "alert.transit_airports", _("At most %(n)d transit airports.") % {"n": MAX_TRANSIT}
        )
    transit = tuple(
        _airport(code, f"alert.transit_airports.{i}")
        for i, code in enumerate(data.transit_airports)
        if normalise_code(code)
    )
    if not data.subjects and not (data.air_waybill or data.consignee or data.consignor):
        raise _error(
            "alert.subjects",
            _(
                "Describe at least one passenger, or a shipment (air waybill, consignor or "
                "consignee)."
            ),
            "nothing_to_control",
        )
    if len(data.subjects) > MAX_SUBJECTS:
        raise _error(
            "alert.subjects", _("At most %(n)d passengers per alert.") % {"n": MAX_SUBJECTS}
        )
    subjects = tuple(
        _validate_subject(subject, f"alert.subjects.{i}", today)
        for i, subject in enumerate(data.subjects)
    )
    unknown = set(data.risk_indicators) - set(RiskIndicator.values)
    if unknown:
        raise _error(
            "alert.risk_indicators", _("Choose one of the listed values."), "invalid_choice"
        )
    return replace(
        data,
        flight_number=_flight_number(data.flight_number, "alert.flight_number"),
        airline=_text(data.airline, "alert.airline", 80),
        departure_airport=_airport(data.departure_airport, "alert.departure_airport"),
        destination_airport=_airport(data.destination_airport, "alert.destination_airport"),
        transit_airports=transit,
        subjects=subjects,
        air_waybill=normalise_identifier(_text(data.air_waybill, "alert.air_waybill", 30)),
        consignor=_text(data.consignor, "alert.consignor", 200),
        consignee=_text(data.consignee, "alert.consignee", 200),
        declared_goods=_text(data.declared_goods, "alert.declared_goods", 300),
        suspected_commodity=_choice(
            data.suspected_commodity, Commodity, "alert.suspected_commodity", required=False
        ),
        risk_indicators=tuple(dict.fromkeys(data.risk_indicators)),
        requested_action=_text(data.requested_action, "alert.requested_action", 500),
    )


def _validate_subject(subject: SubjectInput, prefix: str, today: date) -> SubjectInput:
    name = _text(subject.name, f"{prefix}.name", 200)
    if not name:
        raise _error(f"{prefix}.name", _("The passenger's name is required."), "required")
    if subject.date_of_birth and subject.date_of_birth > today:
        raise _error(f"{prefix}.date_of_birth", _("A date of birth cannot be in the future."))
    return replace(
        subject,
        name=name,
        nationality=_country(subject.nationality, f"{prefix}.nationality"),
        document_type=_choice(
            subject.document_type, DocumentType, f"{prefix}.document_type", required=False
        ),
        document_number=normalise_identifier(
            _text(subject.document_number, f"{prefix}.document_number", 40)
        ),
        pnr=normalise_identifier(_text(subject.pnr, f"{prefix}.pnr", 40)),
        seat=normalise_identifier(_text(subject.seat, f"{prefix}.seat", 5)),
    )


def validate_response(data: ResponseInput) -> ResponseInput:
    outcome = _choice(data.outcome, Outcome, "response.outcome")
    reason = _text(data.not_controlled_reason, "response.not_controlled_reason", 300)
    if outcome == Outcome.NOT_CONTROLLED and not reason:
        raise _error(
            "response.not_controlled_reason",
            _("Say why the control could not take place."),
            "required",
        )
    return replace(
        data,
        outcome=outcome,
        not_controlled_reason=reason,
        action_taken=_text(data.action_taken, "response.action_taken", 500),
    )


def validate_seizure(data: SeizureInput) -> SeizureInput:
    if data.seized_at > timezone.now() + timedelta(minutes=10):
        raise _error("seizure.seized_at", _("The seizure cannot be in the future."))
    commodity = _choice(data.commodity, Commodity, "seizure.commodity")
    if data.quantity is None or data.quantity <= 0:
        raise _error(
            "seizure.quantity", _("The quantity must be greater than zero."), "not_positive"
        )
    unit = _choice(data.unit, Unit, "seizure.unit")
    if commodity in COUNTED_ONLY and unit not in (Unit.UNITS, Unit.PIECES):
        raise _error(
            "seizure.unit",
            _("This commodity is counted in units or pieces, not weighed or measured."),
            "unit_mismatch",
        )
    currency = normalise_code(data.currency)
    if commodity == Commodity.CURRENCY:
        if not currency:
            raise _error(
                "seizure.currency", _("Give the ISO 4217 code of the currency seized."), "required"
            )
        if data.amount is None or data.amount <= 0:
            raise _error("seizure.amount", _("Give the amount of currency seized."), "required")
    if currency and currency not in CURRENCIES:
        raise _error(
            "seizure.currency",
            _("Unknown ISO 4217 currency code: %(code)s.") % {"code": currency},
            "unknown_currency",
        )
    if data.amount is not None and data.amount <= 0:
        raise _error("seizure.amount", _("The amount must be greater than zero."))
    if data.usd_value is not None and data.usd_value < 0:
        raise _error("seizure.usd_value", _("The value cannot be negative."))
    for name in ("persons_arrested", "companies_incriminated"):
        if getattr(data, name) < 0:
            raise _error(f"seizure.{name}", _("Cannot be negative."))
        if getattr(data, name) > MAX_COUNT:
            raise _error(f"seizure.{name}", _("At most %(n)d.") % {"n": MAX_COUNT}, "too_many")
    nationalities = tuple(
        dict.fromkeys(
            _country(code, f"seizure.arrested_nationalities.{i}")
            for i, code in enumerate(data.arrested_nationalities)
            if normalise_code(code)
        )
    )
    if len(nationalities) > data.persons_arrested:
        raise _error(
            "seizure.arrested_nationalities",
            _("More nationalities than persons arrested."),
        )
    if len(data.transit) > MAX_TRANSIT:
        raise _error("seizure.transit", _("At most %(n)d transit stops.") % {"n": MAX_TRANSIT})
    return replace(
        data,
        airport=_airport(data.airport, "seizure.airport"),
        commodity=commodity,
        unit=unit,
        currency=currency,
        concealment=_choice(data.concealment, Concealment, "seizure.concealment"),
        detection=_choice(data.detection, Detection, "seizure.detection"),
        flight_number=_flight_number(data.flight_number, "seizure.flight_number", required=False),
        departure=_place(data.departure, "seizure.departure"),
        transit=tuple(
            _place(code, f"seizure.transit.{i}")
            for i, code in enumerate(data.transit)
            if normalise_code(code)
        ),
        destination=_place(data.destination, "seizure.destination"),
        arrested_nationalities=nationalities,
    )
