"""An operation's results: the figures of its results page, its API and its exports."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django_countries import countries

from accounts.airports import airport as find_airport
from accounts.models import Membership, Operation, User
from accounts.selectors import membership_for
from messaging.codes import Outcome
from messaging.models import Message, MessageKind, ResponseDetails

from ..codes import Commodity, Unit
from ..selectors import seizures_visible_to

# --- the operation's results ---------------------------------------------------------------


def country_name(code: str) -> str:
    return str(countries.name(code) or code) if code else ""


def airport_label(code: str) -> str:
    found = find_airport(code) if code else None
    return f"{code} – {found.city}" if found else code


def trim_quantity(value: Decimal | None) -> Decimal:
    """12.500 → 12.5, 1800.000 → 1800 (never 1.8E+3)."""
    if value is None:
        return Decimal(0)
    return Decimal(format(value.normalize(), "f"))


def results_access(*, user: User, slug: str) -> tuple[Operation, Membership | None]:
    """The operation ``slug`` and the user's membership in it, for its active members; for an
    administrator, any operation (membership None if not a member). 404 for anyone else."""
    if user.is_authenticated and user.is_active and user.is_staff:
        operation = Operation.objects.filter(slug=slug).first()
        if operation is None:
            raise Http404
        membership = (
            Membership.objects.filter(user=user, operation=operation, active=True)
            .select_related("operation")
            .first()
        )
        return (membership.operation if membership else operation), membership
    membership = membership_for(user=user, slug=slug)
    return membership.operation, membership


def operation_results(*, user: User, slug: str, operation: Operation | None = None) -> dict:
    """The figures of one operation for one of its members or an administrator (404 for anyone
    else). ``operation``: already given by ``results_access``, not looked up again."""
    if operation is None:
        operation, _membership = results_access(user=user, slug=slug)
    seizures = seizures_visible_to(user=user).filter(operation=operation).order_by()

    # One scan of the operation's seizures, grouped by commodity, unit, airport and country:
    # the totals, the commodities and the airports are folded from its few hundred groups.
    groups = list(
        seizures.values("commodity", "unit", "airport", "country").annotate(
            n=Count("pk"),
            q=Sum("quantity"),
            persons=Sum("persons_arrested"),
            companies=Sum("companies_incriminated"),
            with_alert=Count("pk", filter=Q(alert__isnull=False)),
            usd=Sum("usd_value"),
        )
    )
    totals = {"total": 0, "persons": 0, "companies": 0, "with_alert": 0}
    totals.update(currency_count=0, currency_usd=None)
    for row in groups:
        totals["total"] += row["n"]
        totals["persons"] += row["persons"] or 0
        totals["companies"] += row["companies"] or 0
        totals["with_alert"] += row["with_alert"]
        if row["commodity"] == Commodity.CURRENCY:
            totals["currency_count"] += row["n"]
            if row["usd"] is not None:
                totals["currency_usd"] = (totals["currency_usd"] or 0) + row["usd"]

    commodity_labels, unit_labels = dict(Commodity.choices), dict(Unit.choices)
    by_commodity: dict[str, dict] = {}
    by_unit: dict[tuple[str, str], dict] = {}
    for row in groups:
        entry = by_commodity.get(row["commodity"])
        if entry is None:
            entry = by_commodity[row["commodity"]] = {
                "commodity": row["commodity"],
                "label": str(commodity_labels.get(row["commodity"], row["commodity"])),
                "count": 0,
                "quantities": [],
            }
        entry["count"] += row["n"]
        quantity = by_unit.get((row["commodity"], row["unit"]))
        if quantity is None:
            quantity = by_unit[row["commodity"], row["unit"]] = {
                "unit": row["unit"],
                "unit_label": str(unit_labels.get(row["unit"], row["unit"])),
                "quantity": None,
            }
            entry["quantities"].append(quantity)
        if row["q"] is not None:
            quantity["quantity"] = (quantity["quantity"] or 0) + row["q"]
    for quantity in by_unit.values():
        quantity["quantity"] = trim_quantity(quantity["quantity"])
    commodities = sorted(by_commodity.values(), key=lambda e: (-e["count"], e["label"]))
    for entry in commodities:
        entry["quantities"].sort(key=lambda q: q["unit"])

    by_currency = [
        {"currency": row["currency"], "count": row["n"], "amount": trim_quantity(row["amount"])}
        for row in seizures.filter(commodity=Commodity.CURRENCY)
        .values("currency")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .order_by("currency")
    ]

    airports: dict[str, dict] = {}
    countries_: dict[str, dict] = {}

    def _airport(code: str) -> dict:
        found = find_airport(code)
        return airports.setdefault(
            code,
            {
                "code": code,
                "label": airport_label(code),
                "name": found.name if found else "",
                "country": found.country if found else "",
                "country_name": country_name(found.country) if found else "",
                "seizures": 0,
                "members": 0,
            },
        )

    def _country(code: str) -> dict:
        return countries_.setdefault(
            code, {"code": code, "name": country_name(code), "seizures": 0, "members": 0}
        )

    for row in groups:
        _airport(row["airport"])["seizures"] += row["n"]
        _country(str(row["country"]))["seizures"] += row["n"]
    members = (
        Membership.objects.filter(operation=operation, active=True)
        .values("user__airport", "user__country")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in members:
        if row["user__airport"]:
            _airport(row["user__airport"])["members"] += row["n"]
        if row["user__country"]:
            _country(str(row["user__country"]))["members"] += row["n"]

    messages = Message.objects.filter(operation=operation).order_by()
    kind_counts = dict(messages.values_list("kind").annotate(n=Count("pk")))
    alerts = messages.filter(kind=MessageKind.ALERT).aggregate(
        sent=Count("pk"),
        answered=Count(
            "pk",
            filter=Exists(Message.objects.filter(alert=OuterRef("pk"), kind=MessageKind.RESPONSE)),
        ),
        positive=Count(
            "pk",
            filter=Exists(
                ResponseDetails.objects.filter(
                    message__alert=OuterRef("pk"), outcome=Outcome.POSITIVE
                )
            ),
        ),
    )

    per_day = dict(
        seizures.annotate(day=TruncDate("seized_at")).values_list("day").annotate(n=Count("pk"))
    )
    days = [d for d in per_day if d is not None]
    first = min([operation.start_date, *days])
    last = max([operation.end_date, *days])
    timeline = [
        {"date": first + timedelta(days=i), "count": per_day.get(first + timedelta(days=i), 0)}
        for i in range((last - first).days + 1)
    ]

    return {
        "operation": {
            "slug": operation.slug,
            "name": operation.name,
            "start_date": operation.start_date,
            "end_date": operation.end_date,
            "status": operation.status,
            "status_label": str(operation.get_status_display()),
        },
        "seizures": {"total": totals["total"], "with_alert": totals["with_alert"]},
        "commodities": commodities,
        "currency": {
            "count": totals["currency_count"],
            "usd_total": trim_quantity(totals["currency_usd"]),
            "by_currency": by_currency,
        },
        "persons_arrested": totals["persons"] or 0,
        "companies_incriminated": totals["companies"] or 0,
        "airports": sorted(airports.values(), key=lambda a: (-a["seizures"], a["code"])),
        "countries": sorted(countries_.values(), key=lambda c: (-c["seizures"], c["name"])),
        "messages": {
            "total": sum(kind_counts.values()),
            "by_kind": [
                {"kind": kind, "label": str(label), "count": kind_counts.get(kind, 0)}
                for kind, label in MessageKind.choices
            ],
        },
        "alerts": {
            "sent": alerts["sent"],
            "answered": alerts["answered"],
            "positive": alerts["positive"],
            "seizures": totals["with_alert"],
        },
        "timeline": timeline,
    }
