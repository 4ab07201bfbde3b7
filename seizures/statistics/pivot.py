"""The pivot of the seizures visible to a user, across operations (counting rules: see the
package's docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Sum, TextChoices
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Operation, User
from aircop.exceptions import DomainError

from ..codes import Commodity, Concealment, Detection, Unit
from ..models import RouteCountries
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


_ROW_FIELDS = {
    RowDimension.DEPARTURE_COUNTRY: "route_countries_id",
    RowDimension.TRANSIT_COUNTRY: "route_countries_id",
    RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY: "route_countries_id",
    RowDimension.AIRPORT: "airport",
    RowDimension.COMMODITY: "commodity",
    RowDimension.DETECTION: "detection",
    RowDimension.CONCEALMENT: "concealment",
}
COUNTRY_DIMENSIONS = (
    RowDimension.DEPARTURE_COUNTRY,
    RowDimension.TRANSIT_COUNTRY,
    RowDimension.DEPARTURE_OR_TRANSIT_COUNTRY,
)


def _route_row_keys(dimension: str, route_ids) -> dict[object, tuple[str, ...]]:
    """route_countries id → the row keys of a seizure on that route: its departure country,
    its distinct transit countries, or both (the departure first, a country once)."""
    keys = {}
    for pk, first, transit in RouteCountries.objects.filter(pk__in=route_ids).values_list(
        "pk", "departure_country", "transit_countries"
    ):
        stops = tuple(transit.split())
        if dimension == RowDimension.DEPARTURE_COUNTRY:
            keys[pk] = (first,) if first else ()
        elif dimension == RowDimension.TRANSIT_COUNTRY:
            keys[pk] = stops
        else:
            keys[pk] = (first, *(c for c in stops if c != first)) if first else stops
    return keys


def _column_key(dimension: str, value) -> str:
    if dimension == ColumnDimension.OPERATION:
        return str(value or "")
    if dimension == ColumnDimension.YEAR:
        return f"{value:04d}"
    return f"{value // 100:04d}-{value % 100:02d}"


def _add(target: dict, key: str, amount, unit: str | None) -> None:
    if unit is None:
        target[key] = target.get(key, 0) + amount
    else:
        per_unit = target.setdefault(key, {})
        per_unit[unit] = per_unit.get(unit, Decimal(0)) + amount


QUANTUM = Decimal("0.001")  # the register's precision (SQLite sums decimals as floats)


def _fold(query: PivotQuery, groups: list[tuple], by_unit: bool):
    """(row, column, unit, value) cells and (column, unit, value) totals from the grouped rows
    (row value, [unit,] column value, value): a group counts in each of its rows, once in the
    totals, in none if it has no row (a route without any known country)."""
    if query.rows in COUNTRY_DIMENSIONS:
        route_keys = _route_row_keys(query.rows, {g[0] for g in groups})
        row_keys = lambda value: route_keys.get(value, ())  # noqa: E731
    else:
        row_keys = lambda value: (value,)  # noqa: E731
    column_keys: dict[object, str] = {}
    cells: dict[tuple, object] = {}
    totals: dict[tuple, object] = {}
    for group in groups:
        keys = row_keys(group[0])
        if not keys:
            continue
        unit = group[1] if by_unit else None
        column = column_keys.get(group[-2])
        if column is None:
            column = column_keys[group[-2]] = _column_key(query.columns, group[-2])
        value = group[-1]
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


PIVOT_WORK_MEM = "32MB"  # PostgreSQL: hash the groups in memory


def _raw_rows(queryset) -> list[tuple]:
    """The rows of a values() queryset without Django's per-row converters. On PostgreSQL,
    with work_mem raised for this query only (the default 4 MB can sort on disk)."""
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


def _groups(seizures, query: PivotQuery, by_unit: bool) -> list[tuple]:
    """One GROUP BY over integer or short keys: the row field (for the route countries, the
    id of the seizure's RouteCountries), the unit for quantities, the column (operation id,
    the seizure's YYYYMM month, or that month // 100 for the year), and the measure."""
    if query.columns == ColumnDimension.OPERATION:
        column = "operation_id"
    elif query.columns == ColumnDimension.MONTH:
        column = "seized_month"
    else:
        seizures = seizures.annotate(
            c_year=ExpressionWrapper(F("seized_month") / 100, output_field=IntegerField())
        )
        column = "c_year"
    fields = [_ROW_FIELDS[query.rows], *(["unit"] if by_unit else []), column]
    measure = Sum("quantity") if by_unit else Count("*")
    return _raw_rows(seizures.values(*fields).annotate(value=measure))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


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
    cells, totals = _fold(query, _groups(seizures, query, by_unit), by_unit)

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
