"""Presentation of coded values for the pages: codes shown by name, never raw, in the reader's
language (airports as "IATA – City (name)", countries by name, numbers in the locale)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats
from django_countries import countries

from accounts.airports import airport, airports

from .codes import RiskIndicator
from .models import MessageKind


def airport_label(code: str) -> str:
    found = airport(code) if code else None
    return str(found) if found else code


def place_label(code: str) -> str:
    """A route stop: an IATA airport or an ISO country code."""
    if len(code or "") == 2:
        return countries.name(code) or code
    return airport_label(code)


def country_names(codes) -> list[str]:
    return [countries.name(code) or code for code in codes or ()]


def number(value: Decimal | None) -> str:
    """2.000 → "2", 12345.500 → "12,345.5" in the reader's locale."""
    if value is None:
        return ""
    return formats.number_format(
        Decimal(format(value.normalize(), "f")), use_l10n=True, force_grouping=True
    )


def _present_alert(details) -> None:
    details.departure_label = airport_label(details.departure_airport)
    details.destination_label = airport_label(details.destination_airport)
    details.transit_labels = [airport_label(code) for code in details.transit_airports]
    details.route = [
        (code, airport_label(code))
        for code in (
            details.departure_airport,
            *details.transit_airports,
            details.destination_airport,
        )
    ]
    labels = dict(RiskIndicator.choices)
    details.risk_labels = [labels.get(code, code) for code in details.risk_indicators]


def _present_seizure(seizure) -> None:
    seizure.airport_label = airport_label(seizure.airport)
    seizure.quantity_label = number(seizure.quantity)
    seizure.amount_label = number(seizure.amount)
    seizure.usd_label = number(seizure.usd_value)
    seizure.route_labels = [
        place_label(code)
        for code in (seizure.departure, *seizure.transit, seizure.destination)
        if code
    ]
    seizure.nationality_names = country_names(seizure.arrested_nationalities)


def present(shown, thread=None) -> None:
    """Give the formatted part of a message (and its thread) the labels its template shows."""
    # getattr: a message stored before its kind had details has none (nothing to label).
    if shown.kind == MessageKind.ALERT and getattr(shown, "alert_details", None):
        _present_alert(shown.alert_details)
    elif shown.kind == MessageKind.SEIZURE and getattr(shown, "seizure", None):
        _present_seizure(shown.seizure)
    for reply in thread or ():
        if reply.kind == MessageKind.SEIZURE and getattr(reply, "seizure", None):
            _present_seizure(reply.seizure)


def route_places() -> list[tuple[str, str]]:
    """The suggestions of a route stop: airports, then countries."""
    return [(code, str(a)) for code, a in sorted(airports().items())] + list(countries)
