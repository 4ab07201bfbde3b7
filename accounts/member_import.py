"""Bulk adding members from CSV: ``username or email, role, country, airport``.

Every row is checked first; if any row is wrong nothing is stored and every bad row is listed
with its line and field. Otherwise every row joins in one transaction. Country (ISO 3166
alpha-2) and airport (IATA) are optional; when given they become the user's posting, which
decides whom they may address."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aircop.exceptions import DomainError

from .manage_selectors import user_by_identifier
from .members import (
    already_member,
    check_administers,
    check_posting,
    check_role,
    join,
    lock_open_operation,
)
from .models import Membership, Operation, User

COLUMNS = ("user", "role", "country", "airport")
HEADER_WORDS = {"user", "username", "email", "username or email", "e-mail"}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


class MemberImportError(DomainError):
    """The file was refused; ``errors`` lists every bad row (line, field, message)."""

    def __init__(self, errors: list[RowError]):
        super().__init__(
            ngettext(
                "Nothing was added: %(count)s error in the file.",
                "Nothing was added: %(count)s errors in the file.",
                len(errors),
            )
            % {"count": len(errors)},
            field="file",
            code="invalid_rows",
        )
        self.errors = errors


@dataclass(frozen=True)
class MemberRow:
    line: int
    user: User
    role: str
    country: str
    airport: str


def _rows(text: str) -> list[tuple[int, list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets export ; or tabs too
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        rows.append((reader.line_num, cells))
    if rows and rows[0][1][0].lower() in HEADER_WORDS:
        rows = rows[1:]
    return rows


def check_member_rows(*, operation: Operation, text: str) -> list[MemberRow]:
    """Parse and check every row; raise MemberImportError listing every bad one."""
    text = text.lstrip("\ufeff")
    rows = _rows(text)
    errors: list[RowError] = []
    if not rows:
        raise MemberImportError([RowError(1, "file", _("The file has no rows."))])
    if len(rows) > settings.AIRCOP_MEMBER_IMPORT_MAX_ROWS:
        raise MemberImportError(
            [
                RowError(
                    1,
                    "file",
                    _("At most %(max)s rows at a time.")
                    % {"max": settings.AIRCOP_MEMBER_IMPORT_MAX_ROWS},
                )
            ]
        )
    checked: list[MemberRow] = []
    seen: dict[int, int] = {}
    for line, cells in rows:
        cells = (cells + [""] * len(COLUMNS))[: len(COLUMNS)]
        identifier, role, country, airport_code = cells
        row_errors = []
        user = user_by_identifier(identifier)
        if not identifier:
            row_errors.append(RowError(line, "user", _("Give a username or an e-mail address.")))
        elif user is None:
            row_errors.append(
                RowError(line, "user", _("Unknown user: %(user)s.") % {"user": identifier})
            )
        elif user.pk in seen:
            row_errors.append(
                RowError(
                    line,
                    "user",
                    _("%(user)s is already on line %(line)s.")
                    % {"user": identifier, "line": seen[user.pk]},
                )
            )
        elif already_member(operation=operation, user=user):
            row_errors.append(
                RowError(
                    line,
                    "user",
                    _("%(user)s is already a member of this operation.") % {"user": identifier},
                )
            )
        role = role.lower()
        try:
            check_role(role)
        except DomainError as error:
            row_errors.append(RowError(line, "role", error.message))
        try:
            country, airport_code = check_posting(country=country, airport_code=airport_code)
        except DomainError as error:
            row_errors.append(RowError(line, error.field or "country", error.message))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen[user.pk] = line
        checked.append(MemberRow(line, user, role, country, airport_code))
    if errors:
        raise MemberImportError(errors)
    return checked


@transaction.atomic
def members_import(*, actor: User, operation: Operation, text: str) -> list[Membership]:
    """Add every member of the CSV ``text`` to the operation, or none."""
    check_administers(actor=actor, operation=operation)
    operation = lock_open_operation(operation)
    rows = check_member_rows(operation=operation, text=text)
    added = []
    for row in rows:
        user = row.user
        changed = []
        if row.country and user.country != row.country:
            user.country = row.country
            changed.append("country")
        if row.airport and user.airport != row.airport:
            user.airport = row.airport
            changed.append("airport")
        if changed:
            user.save(update_fields=changed)
        added.append(
            join(
                actor=actor,
                operation=operation,
                user=user,
                role=row.role,
                data={
                    "import_line": row.line,
                    "posting": {f: str(getattr(user, f)) for f in changed},
                },
            )
        )
    return added


def decode_upload(raw: bytes) -> str:
    """The uploaded bytes as text (UTF-8, with or without BOM; else Latin-1 as spreadsheets
    export it)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
