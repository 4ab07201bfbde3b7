"""CSV and XLSX writers of an operation's results and of a pivot. Headers in the reader's
language; numbers stay numbers; text that a spreadsheet would run as a formula is quoted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from .codes import Commodity, Concealment, Detection, Unit
from .models import Seizure
from .statistics import ColumnDimension, Pivot, RowDimension, pivot_lines

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    """Decimals as numbers (ints when whole); text starting like a formula quoted."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM: spreadsheets then read UTF-8


def _xlsx(title: str, rows: list[list], bold_rows: set[int]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for number, row in enumerate(rows):
        sheet.append([_cell(v) for v in row])
        if number in bold_rows:
            for cell in sheet[number + 1]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    widths: dict[int, int] = {}
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths.get(i, 8), min(len(str(value)) + 2, 60))
    for i, width in widths.items():
        sheet.column_dimensions[sheet.cell(row=1, column=i + 1).column_letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- an operation's results: one tidy table (section, item, measure, unit, value) ----------


def results_rows(results: dict) -> list[list]:
    seizures, count = _("Seizures"), _("Number of seizures")
    rows: list[list] = [[_("Section"), _("Item"), _("Measure"), _("Unit"), _("Value")]]
    rows.append(
        [
            _("Operation"),
            results["operation"]["name"],
            _("Seizures"),
            "",
            results["seizures"]["total"],
        ]
    )
    for entry in results["commodities"]:
        rows.append([seizures, entry["label"], count, "", entry["count"]])
        for q in entry["quantities"]:
            rows.append([seizures, entry["label"], _("Quantity"), q["unit_label"], q["quantity"]])
    currency = results["currency"]
    rows.append([_("Currency"), _("All currencies"), count, "", currency["count"]])
    rows.append(
        [_("Currency"), _("All currencies"), _("Value in USD"), "USD", currency["usd_total"]]
    )
    for c in currency["by_currency"]:
        rows.append([_("Currency"), c["currency"], count, "", c["count"]])
        rows.append([_("Currency"), c["currency"], _("Amount"), c["currency"], c["amount"]])
    rows.append(
        [
            _("People and companies"),
            _("Persons arrested"),
            _("Number"),
            "",
            results["persons_arrested"],
        ]
    )
    rows.append(
        [
            _("People and companies"),
            _("Companies incriminated"),
            _("Number"),
            "",
            results["companies_incriminated"],
        ]
    )
    alerts = results["alerts"]
    for label, value in (
        (_("Alerts sent"), alerts["sent"]),
        (_("Alerts answered"), alerts["answered"]),
        (_("Alerts with a positive response"), alerts["positive"]),
        (_("Seizures following an alert"), alerts["seizures"]),
    ):
        rows.append([_("Alerts"), label, _("Number"), "", value])
    for kind in results["messages"]["by_kind"]:
        rows.append([_("Messages"), kind["label"], _("Number"), "", kind["count"]])
    for a in results["airports"]:
        rows.append([_("Airports"), a["label"], count, "", a["seizures"]])
        rows.append([_("Airports"), a["label"], _("Members"), "", a["members"]])
    for c in results["countries"]:
        rows.append([_("Countries"), c["name"], count, "", c["seizures"]])
        rows.append([_("Countries"), c["name"], _("Members"), "", c["members"]])
    for day in results["timeline"]:
        rows.append([_("Seizures per day"), day["date"].isoformat(), count, "", day["count"]])
    return rows


def results_csv(results: dict) -> bytes:
    return _csv(results_rows(results))


def results_xlsx(results: dict) -> bytes:
    return _xlsx(_("Results"), results_rows(results), {0})


# --- a pivot ---------------------------------------------------------------------------------


def pivot_rows(pivot: Pivot) -> list[list]:
    """Header, one line per row (and unit), the totals last."""
    unit = [_("Unit")] if pivot.by_unit else []
    header = [
        str(RowDimension(pivot.query.rows).label),
        *unit,
        *(pivot.column_labels[c] for c in pivot.columns),
        _("Total"),
    ]
    body, footer = pivot_lines(pivot)
    rows = [header]
    for line in (*body, *footer):
        rows.append(
            [
                line["label"],
                *([line["unit_label"]] if pivot.by_unit else []),
                *line["values"],
                line["total"],
            ]
        )
    return rows


def pivot_title(pivot: Pivot) -> str:
    return _("%(rows)s by %(columns)s") % {
        "rows": RowDimension(pivot.query.rows).label,
        "columns": ColumnDimension(pivot.query.columns).label,
    }


def pivot_csv(pivot: Pivot) -> bytes:
    return _csv(pivot_rows(pivot))


def pivot_xlsx(pivot: Pivot) -> bytes:
    rows = pivot_rows(pivot)
    footer = len(pivot_lines(pivot)[1])
    return _xlsx(_("Statistics"), rows, {0, *range(len(rows) - footer, len(rows))})


# --- the register: one line per seizure, written as it is read (large exports) ----------------


def _label(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def register_rows(seizures: Iterable[Seizure]) -> Iterator[list]:
    """The header, then one line per seizure (codes as in the import template, with labels in
    the reader's language); the notes stay out."""
    yield [
        _("Seizure"),
        _("Date and time (UTC)"),
        _("Operation"),
        _("Airport"),
        _("Country"),
        _("Commodity"),
        _("Quantity"),
        _("Unit"),
        _("Currency"),
        _("Amount"),
        _("Value in USD"),
        _("Concealment method"),
        _("Detection method"),
        _("Flight"),
        _("Departure"),
        _("Transit"),
        _("Destination"),
        _("Persons arrested"),
        _("Nationalities"),
        _("Companies incriminated"),
        _("Reported by"),
    ]
    for s in seizures:
        yield [
            s.pk,
            s.seized_at.strftime("%Y-%m-%d %H:%M"),
            s.operation.slug if s.operation_id else "",
            s.airport,
            str(s.country),
            _label(Commodity, s.commodity),
            s.quantity,
            _label(Unit, s.unit),
            s.currency,
            s.amount if s.amount is not None else "",
            s.usd_value if s.usd_value is not None else "",
            _label(Concealment, s.concealment),
            _label(Detection, s.detection),
            s.flight_number,
            s.departure,
            ";".join(s.transit),
            s.destination,
            s.persons_arrested,
            ";".join(s.arrested_nationalities),
            s.companies_incriminated,
            s.reported_by.username,
        ]


def write_csv(rows: Iterable[list], out: BinaryIO) -> int:
    """Write ``rows`` as UTF-8 CSV (with a BOM) to ``out``; the number of lines after the
    header."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    count = -1
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        count += 1
    text.flush()
    text.detach()
    return max(count, 0)


def write_xlsx(title: str, rows: Iterable[list], out: BinaryIO) -> int:
    """Write ``rows`` to ``out`` as a one-sheet workbook (openpyxl's write-only mode: memory
    stays flat whatever the number of lines); the number of lines after the header."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    count = -1
    for row in rows:
        sheet.append([_cell(v) for v in row])
        count += 1
    book.save(out)
    return max(count, 0)
