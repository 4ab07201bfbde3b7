"""Reads of the register page and API: the visible seizures, filtered and sorted.

A selector like those of ``selectors.py``: it starts from ``seizures_visible_to(user=...)``, so a
filter can only narrow what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.airports import airports
from accounts.models import Operation, User
from accounts.selectors import memberships_of
from aircop.exceptions import NotFound

from .models import Seizure
from .selectors import seizures_visible_to

NO_OPERATION = "none"  # the operation filter's value for seizures outside any operation

# sort key → ordering; "-" in front of the key sorts descending.
SORTS = {
    "date": "seized_at",
    "quantity": "quantity",
    "airport": "airport",
    "commodity": "commodity",
}
DEFAULT_SORT = "-date"


@dataclass(frozen=True)
class RegisterFilters:
    operation: str = ""  # a slug, NO_OPERATION, or "" for all
    date_from: date | None = None
    date_to: date | None = None
    commodity: str = ""
    airport: str = ""
    country: str = ""  # of the seizure
    route_country: str = ""  # of the departure, a transit stop or the destination
    detection: str = ""
    sort: str = DEFAULT_SORT


def register_operations(*, user: User) -> list[Operation]:
    """The operations whose seizures the user may filter on."""
    if user.is_authenticated and user.is_active and user.is_staff:
        return list(Operation.objects.order_by("-start_date", "name"))
    return [m.operation for m in memberships_of(user=user)]


def _places_of(country: str) -> list[str]:
    """A country code and the codes of its airports: a route stop is either."""
    return [country, *(code for code, a in airports().items() if a.country == country)]


def _route_country(country: str) -> Q:
    places = _places_of(country)
    pattern = '"(' + "|".join(places) + ')"'  # an item of the JSON list, quotes included
    return Q(departure__in=places) | Q(destination__in=places) | Q(transit_text__regex=pattern)


def seizures_registered(*, user: User, filters: RegisterFilters) -> QuerySet[Seizure]:
    """The register as the user may see it. Filtering on an operation the user does not belong
    to raises NotFound (never a hint that it exists)."""
    qs = seizures_visible_to(user=user).select_related("operation", "reported_by")
    if filters.operation == NO_OPERATION:
        qs = qs.filter(operation__isnull=True)
    elif filters.operation:
        if filters.operation not in {o.slug for o in register_operations(user=user)}:
            raise NotFound(_("No such operation."), field="operation")
        qs = qs.filter(operation__slug=filters.operation)
    if filters.date_from:
        qs = qs.filter(seized_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(seized_at__date__lte=filters.date_to)
    if filters.commodity:
        qs = qs.filter(commodity=filters.commodity)
    if filters.airport:
        qs = qs.filter(airport=filters.airport.upper())
    if filters.country:
        qs = qs.filter(country=filters.country.upper())
    if filters.detection:
        qs = qs.filter(detection=filters.detection)
    if filters.route_country:
        qs = qs.annotate(transit_text=Cast("transit", TextField())).filter(
            _route_country(filters.route_country.upper())
        )
    key = filters.sort or DEFAULT_SORT
    descending = key.startswith("-")
    field = SORTS.get(key.removeprefix("-"), "seized_at")
    if field == "seized_at":
        return qs.order_by(f"{'-' if descending else ''}seized_at", "-id" if descending else "id")
    # Ties: the newest first.
    return qs.order_by(f"{'-' if descending else ''}{field}", "-seized_at", "-id")
