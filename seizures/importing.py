"""Bulk import of seizures: reading a CSV or XLSX file and checking its rows.

Nothing here writes: :func:`read_table` turns an upload into a header and rows of text (or
refuses the file with a :class:`~aircop.exceptions.DomainError` on ``file``), and
:func:`parse_row` turns one row into a validated ``SeizureInput`` or the list of its errors.
The writes (all rows or none) live in ``seizures/import_services.py``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from aircop.exceptions import DomainError
from messaging.formatted import SeizureInput, validate_seizure

# The columns of an import file, exactly; the order of the template.
COLUMNS = (
    "date",
    "airport",
    "commodity",
    "quantity",
    "unit",
    "currency",
    "amount",
    "departure",
    "transit",
    "destination",
    "concealment",
    "detection",
    "persons_arrested",
    "nationalities",
    "flight",
)
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
# An XLSX is a zip: refuse one that would inflate beyond this (a decompression bomb).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
LIST_SEPARATOR = ";"
# The limits of the register's columns (Seizure.quantity 14,3; amount 16,2).
MAX_QUANTITY = Decimal("1e11")
MAX_AMOUNT = Decimal("1e14")
MAX_PERSONS = 10_000

# validate_seizure names fields as the API does; the file names them by its columns.
_FIELD_TO_COLUMN = {
    "seized_at": "date",
    "arrested_nationalities": "nationalities",
    "flight_number": "flight",
}


@dataclass(frozen=True)
class RowError:
    line: int | None
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass
class Table:
    """The rows of a file: (line in the file, {column: text}); blank lines left out."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _refuse(message: str, code: str = "invalid_file") -> DomainError:
    return DomainError(message, field="file", code=code)


# --- reading ------------------------------------------------------------------------------


def read_table(filename: str, content: bytes) -> Table:
    """The rows of a CSV or XLSX upload, or a DomainError on ``file`` saying why it is refused."""
    if not content:
        raise _refuse(_("The file is empty."), "empty")
    if len(content) > MAX_BYTES:
        raise _refuse(
            _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_BYTES // (1024 * 1024)},
            "too_large",
        )
    name = (filename or "").lower()
    if name.endswith((".xlsm", ".xltm", ".xlsb", ".xls")):
        raise _refuse(
            _("Macro-enabled and old Excel files are refused: save the sheet as .xlsx or .csv."),
            "macro",
        )
    if content.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(content)
    elif name.endswith(".xlsx"):
        raise _refuse(_("This is not an XLSX file."))
    elif name.endswith((".csv", ".txt")) or not name:
        rows = _csv_rows(content)
    else:
        raise _refuse(_("Upload a CSV or an XLSX file."), "unsupported_format")
    return _table(rows)


def _csv_rows(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(
            _("The file is not encoded in UTF-8: save it as “CSV UTF-8”."), "bad_encoding"
        ) from None
    if "\x00" in text:
        raise _refuse(_("Upload a CSV or an XLSX file."), "unsupported_format")
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in many languages save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for values in reader:
            yield line, values
            line = reader.line_num + 1
    except csv.Error:
        raise _refuse(
            _("The CSV file is malformed near line %(line)d.") % {"line": line}, "malformed"
        ) from None


def _xlsx_rows(content: bytes):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
        content_types = (
            archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError):
        raise _refuse(_("This is not an XLSX file.")) from None
    if any("vbaproject" in n.lower() for n in names) or (
        b"macroEnabled" in content_types or b"vbaProject" in content_types
    ):
        raise _refuse(
            _("Macro-enabled and old Excel files are refused: save the sheet as .xlsx or .csv."),
            "macro",
        )
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _refuse(_("The file is too large once unpacked."), "too_large")
    if "xl/workbook.xml" not in names:
        raise _refuse(_("This is not an XLSX file."))

    from openpyxl import load_workbook  # a heavy import, only for XLSX files

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise _refuse(_("This XLSX file cannot be read.")) from None
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise _refuse(_("The file is empty."), "empty")
        # A formula cell anywhere is refused: its cached value may be stale or absent.
        for sheet in sheets[1:]:
            for row in sheet.iter_rows():
                _refuse_formulas(sheet.title, row)
        for number, row in enumerate(sheets[0].iter_rows(), start=1):
            _refuse_formulas(sheets[0].title, row)
            yield number, [_cell_text(cell.value) for cell in row]
    except DomainError:
        raise
    except Exception:
        raise _refuse(_("This XLSX file cannot be read.")) from None
    finally:
        workbook.close()


def _refuse_formulas(sheet: str, row) -> None:
    for cell in row:
        if getattr(cell, "data_type", None) == "f":
            raise _refuse(
                _("Formulas are refused (cell %(cell)s of sheet “%(sheet)s”): paste values only.")
                % {"cell": getattr(cell, "coordinate", "?"), "sheet": sheet},
                "formula",
            )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _table(rows) -> Table:
    header: list[str] | None = None
    table = Table()
    for line, values in rows:
        values = [str(v).strip() for v in values]
        if not any(values):
            continue
        if header is None:
            header = [v.lower() for v in values]
            _check_header(header)
            continue
        if len(table.rows) >= MAX_ROWS:
            raise _refuse(
                _("Too many rows: at most %(n)d per file.") % {"n": MAX_ROWS}, "too_many_rows"
            )
        extra = values[len(header) :]
        if any(extra):
            raise _refuse(
                _("Line %(line)d has more values than the header has columns.") % {"line": line},
                "malformed",
            )
        values += [""] * (len(header) - len(values))
        table.rows.append((line, dict(zip(header, values, strict=False))))
    if header is None:
        raise _refuse(_("The file is empty."), "empty")
    return table


def _check_header(header: list[str]) -> None:
    while header and not header[-1]:
        header.pop()
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c or "?" for c in header if c not in COLUMNS]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
    if duplicated:
        problems.append(_("repeated columns: %(names)s") % {"names": ", ".join(duplicated)})
    if problems:
        raise _refuse(
            _("The first line must name the columns of the template (%(problems)s).")
            % {"problems": "; ".join(problems)},
            "bad_columns",
        )


# --- checking one row ---------------------------------------------------------------------


def parse_row(line: int, values: dict[str, str]) -> tuple[SeizureInput | None, list[RowError]]:
    """One row as validated input, or its errors (every format error, then the first domain
    error that ``validate_seizure`` finds)."""
    errors: list[RowError] = []

    def error(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    seized_at = _parse_date(values["date"], error)
    quantity = _parse_decimal(values["quantity"], "quantity", MAX_QUANTITY, error, required=True)
    amount = _parse_decimal(values["amount"], "amount", MAX_AMOUNT, error, required=False)
    persons = _parse_count(values["persons_arrested"], "persons_arrested", error)
    if errors:
        return None, errors
    data = SeizureInput(
        seized_at=seized_at,
        airport=values["airport"],
        commodity=values["commodity"].lower(),
        quantity=quantity,
        unit=values["unit"].lower(),
        concealment=values["concealment"].lower(),
        detection=values["detection"].lower(),
        currency=values["currency"],
        amount=amount,
        flight_number=values["flight"],
        departure=values["departure"],
        transit=_split(values["transit"]),
        destination=values["destination"],
        persons_arrested=persons,
        arrested_nationalities=_split(values["nationalities"]),
    )
    try:
        return validate_seizure(data), []
    except DomainError as exc:
        return None, [RowError(line, column_of(exc.field), exc.message)]


def column_of(field_name: str | None) -> str:
    """``seizure.arrested_nationalities.1`` → ``nationalities``."""
    parts = (field_name or "").split(".")
    name = parts[1] if len(parts) > 1 and parts[0] == "seizure" else parts[0]
    return _FIELD_TO_COLUMN.get(name, name) or "file"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(LIST_SEPARATOR) if part.strip())


def _parse_date(value: str, error) -> datetime | None:
    if not value:
        error("date", _("This field is required."))
        return None
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time())
        else:
            parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        error("date", _("Not a date: write it as 2024-03-31 or 2024-03-31T14:05."))
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _parse_decimal(value: str, column: str, limit: Decimal, error, *, required: bool):
    if not value:
        if required:
            error(column, _("This field is required."))
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        error(column, _("Not a number (use a dot for decimals, no thousands separator)."))
        return None
    if not number.is_finite():
        error(column, _("Not a number (use a dot for decimals, no thousands separator)."))
        return None
    if abs(number) >= limit:
        error(column, _("This number is too large."))
        return None
    return number


def _parse_count(value: str, column: str, error) -> int:
    if not value:
        return 0
    try:
        number = int(Decimal(value)) if Decimal(value) == int(Decimal(value)) else None
    except (InvalidOperation, ValueError, OverflowError):
        number = None
    if number is None:
        error(column, _("Not a whole number."))
        return 0
    if number > MAX_PERSONS:
        error(column, _("This number is too large."))
        return 0
    return number


# --- the template -------------------------------------------------------------------------


def template_csv() -> bytes:
    return (",".join(COLUMNS) + "\r\n").encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "seizures"
    sheet.append(list(COLUMNS))
    for index, name in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index).number_format = "@"
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, len(name) + 2
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
