"""An operation's results: the figures of its results page, its API and its exports."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django_countries import countries

from accounts.airports import airport as find_airport
from accounts.models import Membership, User
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


def operation_results(*, user: User, slug: str) -> dict:
    """The figures of one operation for one of its members (404 for anyone else)."""
    membership = membership_for(user=user, slug=slug)
    operation = membership.operation
    seizures = seizures_visible_to(user=user).filter(operation=operation).order_by()

    totals = seizures.aggregate(
        total=Count("pk"),
        persons=Sum("persons_arrested"),
        companies=Sum("companies_incriminated"),
        with_alert=Count("pk", filter=Q(alert__isnull=False)),
        currency_count=Count("pk", filter=Q(commodity=Commodity.CURRENCY)),
        currency_usd=Sum("usd_value", filter=Q(commodity=Commodity.CURRENCY)),
    )

    commodity_labels, unit_labels = dict(Commodity.choices), dict(Unit.choices)
    by_commodity: dict[str, dict] = {}
    for row in seizures.values("commodity", "unit").annotate(n=Count("pk"), q=Sum("quantity")):
        entry = by_commodity.setdefault(
            row["commodity"],
            {
                "commodity": row["commodity"],
                "label": str(commodity_labels.get(row["commodity"], row["commodity"])),
                "count": 0,
                "quantities": [],
            },
        )
        entry["count"] += row["n"]
        entry["quantities"].append(
            {
                "unit": row["unit"],
                "unit_label": str(unit_labels.get(row["unit"], row["unit"])),
                "quantity": trim_quantity(row["q"]),
            }
        )
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

    for row in seizures.values("airport", "country").annotate(n=Count("pk")):
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
