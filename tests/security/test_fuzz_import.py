"""Hypothesis over the import parsers (seizures/importing.py): arbitrary bytes, CSV text and
XLSX workbooks are read or refused with a DomainError on ``file``; every row read is parsed into
a seizure or a list of row errors; and the API's import answers 201 or 400, never a 500."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from aircop.exceptions import DomainError
from seizures.importing import COLUMNS, parse_row, read_table

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "2017-12-10",
            "2017-12-10T25:99",
            "DSS",
            "cocaine",
            "kg",
            "2.5",
            "-3",
            "1e999",
            "NaN",
            "EUR",
            "GRU;ADD",
            "SN",
            "=1+1",
            "@SUM(A1)",
            "BR;NG;XX",
            "99999999999999999999",
        ]
    ),
)
ROWS = st.lists(st.lists(CELL, min_size=0, max_size=len(COLUMNS) + 2), max_size=6)


def csv_bytes(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(header, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([c.replace("\x00", "") for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = st.one_of(
    st.just(list(COLUMNS)),
    st.lists(st.sampled_from([*COLUMNS, "", "x", "date"]), max_size=len(COLUMNS) + 1),
)


def read_or_refuse(filename: str, content: bytes) -> None:
    try:
        table = read_table(filename, content)
    except DomainError as error:
        assert error.field == "file"
        assert error.message
        return
    for line, values in table.rows:
        seizure, errors = parse_row(line, values)
        assert (seizure is None) == bool(errors)
        for error in errors:
            assert error.message


@FUZZ
@given(name=st.sampled_from(["s.csv", "s.xlsx", "s.txt", "", "s.xls", "s.pdf"]), data=st.binary())
def test_arbitrary_bytes_are_read_or_refused(name, data):
    read_or_refuse(name, data)


@FUZZ
@given(header=HEADER, rows=ROWS)
def test_any_csv_is_read_or_refused(header, rows):
    read_or_refuse("s.csv", csv_bytes(header, rows))


@settings(FUZZ, max_examples=25)
@given(header=HEADER, rows=ROWS)
def test_any_xlsx_is_read_or_refused(header, rows):
    try:
        content = xlsx_bytes(header, rows)
    except IllegalCharacterError:  # openpyxl refuses characters a sheet cannot hold
        return
    read_or_refuse("s.xlsx", content)


@pytest.mark.django_db
def test_the_import_api_answers_201_or_400(world):
    client = Client()
    client.force_login(world.officer.user)

    @settings(FUZZ, max_examples=25)
    @given(header=HEADER, rows=ROWS, as_xlsx=st.booleans())
    def check(header, rows, as_xlsx):
        try:
            content = xlsx_bytes(header, rows) if as_xlsx else csv_bytes(header, rows)
        except IllegalCharacterError:
            return
        upload = io.BytesIO(content)
        upload.name = "s.xlsx" if as_xlsx else "s.csv"
        with transaction.atomic():
            response = client.post("/api/v1/seizures/import", {"file": upload})
            transaction.set_rollback(True)
        assert response.status_code in (201, 400), response.content[:300]

    check()
