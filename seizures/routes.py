"""The countries of a seizure's route and the month of a seizure: what the statistics group
by, derived once when a seizure is saved (``Seizure.save``) rather than at every pivot.

A route stop is an IATA airport or an ISO 3166 country code; an airport counts as its
country. The departure's country and the distinct transit countries (sorted: the pivot counts
a seizure once per country, whatever the order, so Lagos–Accra and Accra–Lagos share a row) are
stored once per combination (``RouteCountries``), and each seizure points at its combination: the
pivot groups 200,000 seizures by that integer instead of by the JSON transit list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from django.utils import timezone

from accounts.airports import airport as find_airport


@cache
def country_of(code: str) -> str | None:
    """A route stop's country: an ISO code as is, an IATA airport as its country."""
    if len(code) == 2:
        return code
    found = find_airport(code) if len(code) == 3 else None
    return found.country if found else None


def route_countries(departure: str, transit: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """(the departure's country or "", the distinct known transit countries, sorted)."""
    first = (country_of(departure) or "") if departure else ""
    found = (country_of(code) for code in transit or () if code)
    return first, tuple(sorted({c for c in found if c}))


def month_key(moment: datetime) -> int:
    """YYYYMM of a moment in the project's time zone (``TIME_ZONE``)."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return local.year * 100 + local.month
