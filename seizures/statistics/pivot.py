"""The pivot of the seizures visible to a user, across operations (counting rules: see the
package's docstring)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from django.db import connections, transaction
from django.db.models import Count, DateField, Max, Min, Q, Sum, TextChoices
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.airports import airport as find_airport
from accounts.models import Operation, User
from aircop.exceptions import DomainError

from ..codes import Commodity, Concealment, Detection, Unit
from ..selectors import seizures_visible_to
from .results import airport_label, country_name, trim_quantity

# --- the pivot across operations -----------------------------------------------------------


class RowDimension(TextChoices):
    DEPARTURE_COUNTRY = "departure_country", gettext_lazy("Country of departure")
    TRANSIT_COUNTRY = "transit_country", gettext_lazy("Country of transit")
    DEPARTURE_OR_TRANSIT_COUNTRY = (
        "departure_or_transit_country",
        gettext_lazy("Country of departure or transit"),
    )
    AIRPORT = "airport", gettext_lazy("Airport of seizure")
    COMMODITY = "commodity", gettext_lazy("Commodity")
    DETECTION = "detection", gettext_lazy("Detection method")
    CONCEALMENT = "concealment", gettext_lazy("Concealment method")


class ColumnDimension(TextChoices):
    YEAR = "year", gettext_lazy("Year")
    MONTH = "month", gettext_lazy("Month")
    OPERATION = "operation", gettext_lazy("Operation")


class Measure(TextChoices):
    COUNT = "count", gettext_lazy("Number of seizures")
    QUANTITY = "quantity", gettext_lazy("Quantity seized (per unit)")


@dataclass(frozen=True)
class PivotQuery:
    rows: str = RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY
    columns: str = ColumnDimension.YEAR
    measure: str = Measure.COUNT
    commodity: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_params(self) -> dict[str, str]:
        params = {"rows": self.rows, "columns": self.columns, "measure": self.measure}
        if self.commodity:
            params["commodity"] = self.commodity
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        return params


def _choice(params: Mapping, name: str, choices, default: str) -> str:
    value = (params.get(name) or default).strip()
    if value not in choices.values:
        raise DomainError(
            _("%(value)s is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(choices.values)},
            field=name,
            code="invalid_choice",
        )
    return value


def _date(params: Mapping, name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            _("Give a date as YYYY-MM-DD."), field=name, code="invalid_date"
        ) from None


def pivot_query_from(params: Mapping) -> PivotQuery:
    """Read and check the pivot's parameters; a DomainError names the field at fault."""
    rows = _choice(params, "rows", RowDimension, RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY)
    columns = _choice(params, "columns", ColumnDimension, ColumnDimension.YEAR)
    measure = _choice(params, "measure", Measure, Measure.COUNT)
    commodity = (params.get("commodity") or "").strip()
    if commodity and commodity not in Commodity.values:
        raise DomainError(
            _("Choose one of the listed values."), field="commodity", code="invalid_choice"
        )
    if measure == Measure.QUANTITY and not commodity and rows != RowDimension.COMMODITY:
        raise DomainError(
            _(
                "Quantities of different commodities do not add up: choose a commodity, "
                "or show the commodities as rows."
            ),
            field="commodity",
            code="required",
        )
    date_from, date_to = _date(params, "from"), _date(params, "to")
    if date_from and date_to and date_to < date_from:
        raise DomainError(_("The end date is before the start date."), field="to")
    return PivotQuery(rows, columns, measure, commodity, date_from, date_to)


@dataclass
class Pivot:
    """rows × columns; with measure ``quantity`` every value is a {unit: quantity} mapping."""

    query: PivotQuery
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    row_labels: dict[str, str] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    cells: dict[str, dict[str, object]] = field(default_factory=dict)
    row_totals: dict[str, object] = field(default_factory=dict)
    column_totals: dict[str, object] = field(default_factory=dict)
    total: object = 0
    units: list[str] = field(default_factory=list)

    @property
    def by_unit(self) -> bool:
        return self.query.measure == Measure.QUANTITY


@cache
def country_of(code: str) -> str | None:
    """A route stop's country: an ISO code as is, an IATA airport as its country."""
    if len(code) == 2:
        return code
    found = find_airport(code) if len(code) == 3 else None
    return found.country if found else None


def _countries(*codes: str) -> list[str]:
    found = (country_of(code) for code in codes if code)
    return list(dict.fromkeys(c for c in found if c))


_ROW_FIELDS = {
    RowDimension.DEPARTURE_COUNTRY: ("departure",),
    RowDimension.TRANSIT_COUNTRY: ("transit",),
    RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY: ("departure", "transit"),
    RowDimension.AIRPORT: ("airport",),
    RowDimension.COMMODITY: ("commodity",),
    RowDimension.DETECTION: ("detection",),
    RowDimension.CONCEALMENT: ("concealment",),
}


def _route(value) -> tuple[str, ...]:
    """A transit list as the database returns it without Django's converters (JSON text)."""
    if not value:
        return ()
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(value) if isinstance(value, list) else ()


def _row_keys_fn(dimension: str):
    """row values → the row keys (a tuple) of one group; the route dimensions memoised per
    route, each distinct transit list parsed once."""
    if dimension not in COUNTRY_DIMENSIONS:
        return lambda values: (values[0],)
    memo: dict[tuple, tuple[str, ...]] = {}
    transits: dict[object, tuple[str, ...]] = {}
    departure = dimension != RowDimension.TRANSIT_COUNTRY
    transit = dimension != RowDimension.DEPARTURE_COUNTRY

    def transit_countries(value) -> tuple[str, ...]:
        key = value if isinstance(value, str) or value is None else json.dumps(value)
        found = transits.get(key)
        if found is None:
            found = transits[key] = tuple(_countries(*_route(value)))
        return found

    def keys(values) -> tuple[str, ...]:
        found = memo.get(values)
        if found is None:
            first = country_of(values[0]) if departure and values[0] else None
            stops = transit_countries(values[-1]) if transit else ()
            # The departure first, then the other transit countries, in order.
            found = (first, *(c for c in stops if c != first)) if first else stops
            memo[values] = found
        return found

    return keys


def _period(value) -> tuple[int, int]:
    """(year, month) of a truncated date: a date or datetime, or ISO text (SQLite)."""
    if isinstance(value, str):
        return int(value[:4]), int(value[5:7])
    return value.year, value.month


def _column_key(dimension: str, value) -> str:
    if dimension == ColumnDimension.OPERATION:
        return str(value or "")
    year, month = _period(value)
    return f"{year:04d}" if dimension == ColumnDimension.YEAR else f"{year:04d}-{month:02d}"


def _add(target: dict, key: str, amount, unit: str | None) -> None:
    if unit is None:
        target[key] = target.get(key, 0) + amount
    else:
        per_unit = target.setdefault(key, {})
        per_unit[unit] = per_unit.get(unit, Decimal(0)) + amount


COUNTRY_DIMENSIONS = (
    RowDimension.DEPARTURE_COUNTRY,
    RowDimension.TRANSIT_COUNTRY,
    RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY,
)
QUANTUM = Decimal("0.001")  # the register's precision (SQLite sums decimals as floats)


def _fold(query: PivotQuery, records, by_unit: bool):
    """(row, column, unit, value) cells and (column, unit, value) totals from grouped records
    (row values, unit, [(column, value), ...]): a record counts in each of its rows, once in
    the totals, in none if it has no row. Records with the same rows, column and unit are
    summed first (many routes, few countries), then the cells and totals (few)."""
    row_keys = _row_keys_fn(query.rows)
    summed: dict[tuple, object] = {}
    get = summed.get
    for values, unit, pairs in records:
        keys = row_keys(values)
        if not keys:  # no country known for this route: in no row, so in no total
            continue
        for column, value in pairs:
            slot = (keys, column, unit)
            summed[slot] = get(slot, 0) + value
    cells: dict[tuple, object] = {}
    totals: dict[tuple, object] = {}
    for (keys, column, unit), value in summed.items():
        if by_unit:
            value = Decimal(str(value)).quantize(QUANTUM)
        for key in keys:
            cell = (key, column, unit)
            cells[cell] = cells.get(cell, 0) + value
        total = (column, unit)
        totals[total] = totals.get(total, 0) + value
    return (
        [(key, column, unit, value) for (key, column, unit), value in cells.items()],
        [(column, unit, value) for (column, unit), value in totals.items()],
    )


MAX_PERIOD_COLUMNS = 60  # beyond, one grouped column by date_trunc instead of filtered sums


def _periods(seizures, query: PivotQuery) -> list[tuple[str, datetime, datetime]]:
    """The years or months from the first seizure to the last: (key, start, end)."""
    bounds = seizures.aggregate(first=Min("seized_at"), last=Max("seized_at"))
    if bounds["first"] is None:
        return []
    first, last = (timezone.localtime(bounds[k]) for k in ("first", "last"))
    periods = []
    year, month = first.year, first.month if query.columns == ColumnDimension.MONTH else 1
    while (year, month) <= (last.year, last.month):
        if query.columns == ColumnDimension.YEAR:
            key, following = f"{year:04d}", (year + 1, 1)
        else:
            key, following = f"{year:04d}-{month:02d}", (year + (month == 12), month % 12 + 1)
        periods.append((key, _start_of(date(year, month, 1)), _start_of(date(*following, 1))))
        year, month = following
    return periods


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


PIVOT_WORK_MEM = "32MB"  # PostgreSQL: hash the groups in memory (random routes: 2× faster)


def _raw_rows(queryset) -> list[tuple]:
    """The rows of a values() queryset, in its order, without Django's per-row converters
    (JSON parsing, time zones): tens of thousands of groups read fast, each route parsed once.
    On PostgreSQL, with work_mem raised for this query only (the default 4 MB sorts tens of
    thousands of routes on disk)."""
    sql, params = queryset.query.sql_with_params()
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem')")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('work_mem', %s, true)", [PIVOT_WORK_MEM])
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        # Inside an outer transaction the setting would outlive the savepoint: restored.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])
        return rows


def _records(seizures, query: PivotQuery, by_unit: bool):
    """(row values, unit, [(column, value), ...]) of the groups, by the cheapest plan for the
    columns: per operation, a GROUP BY; per year or month, one filtered sum per period over a
    GROUP BY of the rows only (PostgreSQL truncates dates slowly: this halves the time)."""
    fields = list(_ROW_FIELDS[query.rows]) + (["unit"] if by_unit else [])
    width = len(_ROW_FIELDS[query.rows])

    def measure(condition=None):
        if by_unit:
            return Sum("quantity", filter=condition)
        return Count("pk", filter=condition)

    if query.columns == ColumnDimension.OPERATION:
        rows = _raw_rows(seizures.values(*fields, "operation_id").annotate(value=measure()))
        for row in rows:
            unit = row[width] if by_unit else None
            yield row[:width], unit, ((str(row[-2] or ""), row[-1]),)
        return
    periods = _periods(seizures, query)
    if len(periods) > MAX_PERIOD_COLUMNS:
        trunc = TruncYear if query.columns == ColumnDimension.YEAR else TruncMonth
        grouped = seizures.annotate(c_period=trunc("seized_at", output_field=DateField()))
        for row in _raw_rows(grouped.values(*fields, "c_period").annotate(value=measure())):
            unit = row[width] if by_unit else None
            yield row[:width], unit, ((_column_key(query.columns, row[-2]), row[-1]),)
        return
    sums = {
        f"p{i}": measure(Q(seized_at__gte=start, seized_at__lt=end))
        for i, (_key, start, end) in enumerate(periods)
    }
    if not sums:
        return
    keys = [key for key, _start, _end in periods]
    start = len(fields)
    for row in _raw_rows(seizures.values(*fields).annotate(**sums)):
        unit = row[width] if by_unit else None
        yield (
            row[:width],
            unit,
            [(key, value) for key, value in zip(keys, row[start:], strict=True) if value],
        )


def seizure_pivot(*, user: User, query: PivotQuery) -> Pivot:
    """The seizures visible to ``user``, by ``query.rows`` × ``query.columns``."""
    seizures = seizures_visible_to(user=user).order_by()
    if query.commodity:
        seizures = seizures.filter(commodity=query.commodity)
    if query.date_from:
        seizures = seizures.filter(seized_at__gte=_start_of(query.date_from))
    if query.date_to:
        seizures = seizures.filter(seized_at__lt=_start_of(query.date_to + timedelta(days=1)))
    by_unit = query.measure == Measure.QUANTITY
    cells, totals = _fold(query, _records(seizures, query, by_unit), by_unit)

    pivot = Pivot(query=query, total={} if by_unit else 0)
    units: set[str] = set()
    columns: set[str] = set()
    for key, column, unit, value in cells:
        _add(pivot.cells.setdefault(key, {}), column, value, unit)
        _add(pivot.row_totals, key, value, unit)
    for column, unit, value in totals:
        columns.add(column)
        _add(pivot.column_totals, column, value, unit)
        if by_unit:
            units.add(unit)
            pivot.total[unit] = pivot.total.get(unit, Decimal(0)) + value
        else:
            pivot.total += value

    if by_unit:
        for per_unit in (
            *(v for cells in pivot.cells.values() for v in cells.values()),
            *pivot.row_totals.values(),
            *pivot.column_totals.values(),
            pivot.total,
        ):
            for unit_key, amount in per_unit.items():
                per_unit[unit_key] = trim_quantity(amount)
    pivot.units = sorted(units)
    pivot.row_labels = _row_labels(query.rows, pivot.cells)
    pivot.columns, pivot.column_labels = _columns(query.columns, columns)
    pivot.rows = sorted(pivot.cells, key=lambda k: _row_order(pivot, k))
    return pivot


def _row_order(pivot: Pivot, key: str):
    total = pivot.row_totals[key]
    weight = sum(total.values()) if isinstance(total, dict) else total
    return (-weight, pivot.row_labels[key].casefold())


def _row_labels(dimension: str, keys) -> dict[str, str]:
    if dimension in (
        RowDimension.DEPARTURE_COUNTRY,
        RowDimension.TRANSIT_COUNTRY,
        RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY,
    ):
        return {key: country_name(key) for key in keys}
    if dimension == RowDimension.AIRPORT:
        return {key: airport_label(key) for key in keys}
    choices = {
        RowDimension.COMMODITY: Commodity,
        RowDimension.DETECTION: Detection,
        RowDimension.CONCEALMENT: Concealment,
    }[dimension]
    labels = dict(choices.choices)
    return {key: str(labels.get(key, key)) for key in keys}


def _columns(dimension: str, keys: set[str]) -> tuple[list[str], dict[str, str]]:
    """The columns in order, with the years or months between the first and last filled in."""
    if not keys:
        return [], {}
    if dimension == ColumnDimension.YEAR:
        years = [int(k) for k in keys]
        ordered = [str(y) for y in range(min(years), max(years) + 1)]
        return ordered, {k: k for k in ordered}
    if dimension == ColumnDimension.MONTH:
        months = sorted(keys)
        year, month = map(int, months[0].split("-"))
        ordered = []
        while (key := f"{year:04d}-{month:02d}") <= months[-1]:
            ordered.append(key)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return ordered, {
            k: formats.date_format(date(int(k[:4]), int(k[5:]), 1), "YEAR_MONTH_FORMAT")
            for k in ordered
        }
    ids = [int(k) for k in keys if k]
    operations = {
        str(op.pk): op
        for op in Operation.objects.filter(pk__in=ids).only("name", "slug", "start_date")
    }
    ordered = sorted(
        operations, key=lambda k: (operations[k].start_date, operations[k].name.casefold())
    )
    labels = {k: operations[k].name for k in ordered}
    if "" in keys:
        ordered.append("")
        labels[""] = _("Outside any operation")
    return ordered, labels


def pivot_lines(pivot: Pivot) -> tuple[list[dict], list[dict]]:
    """The pivot as table lines (body, footer): one line per row, or per row and unit when
    the measure is a quantity. Each line: label, unit ("" for counts), values, total."""
    unit_labels = dict(Unit.choices)

    def line(label: str, cells: Mapping, total, unit: str | None) -> dict:
        if unit is None:
            values = [cells.get(c, 0) for c in pivot.columns]
        else:
            values = [cells.get(c, {}).get(unit, 0) for c in pivot.columns]
            total = total.get(unit, 0)
        return {
            "label": label,
            "unit": unit or "",
            "unit_label": str(unit_labels.get(unit, unit)) if unit else "",
            "values": values,
            "total": total,
        }

    body, footer = [], []
    total_label = _("Total")
    if not pivot.by_unit:
        for key in pivot.rows:
            body.append(line(pivot.row_labels[key], pivot.cells[key], pivot.row_totals[key], None))
        footer.append(line(total_label, pivot.column_totals, pivot.total, None))
        return body, footer
    for key in pivot.rows:
        for unit in pivot.units:
            if unit in pivot.row_totals[key]:
                body.append(
                    line(pivot.row_labels[key], pivot.cells[key], pivot.row_totals[key], unit)
                )
    for unit in pivot.units:
        footer.append(line(total_label, pivot.column_totals, pivot.total, unit))
    return body, footer


def pivot_as_dict(pivot: Pivot) -> dict:
    """The API's shape: rows, columns, cells {row: {column: value}}, totals, labels."""
    return {
        "rows": pivot.rows,
        "columns": pivot.columns,
        "cells": {row: {c: v for c, v in pivot.cells[row].items()} for row in pivot.rows},
        "row_totals": {row: pivot.row_totals[row] for row in pivot.rows},
        "column_totals": {
            c: pivot.column_totals.get(c, {} if pivot.by_unit else 0) for c in pivot.columns
        },
        "total": pivot.total,
        "row_labels": pivot.row_labels,
        "column_labels": pivot.column_labels,
        "measure": str(pivot.query.measure),
        "units": pivot.units,
    }
