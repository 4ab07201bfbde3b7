"""Bulk import of seizures from CSV and XLSX: all rows or none, every error with its line."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, ManagementUtility, call_command
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.models import AuditEvent, OperationStatus, Role
from accounts.services import api_token_create
from seizures.import_services import import_job_create, seizures_import
from seizures.importing import COLUMNS, MAX_ROWS, read_table
from seizures.models import ImportJob, ImportStatus, Seizure
from seizures.tasks import import_seizures_task
from tests.factories import OperationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

GOOD = {
    "date": "2024-03-31",
    "airport": "CDG",
    "commodity": "cocaine",
    "quantity": "12.5",
    "unit": "kg",
    "currency": "",
    "amount": "",
    "departure": "GRU",
    "transit": "LIS;PT",
    "destination": "FR",
    "concealment": "checked_baggage",
    "detection": "profiling",
    "persons_arrested": "2",
    "nationalities": "BR;PT",
    "flight": "AF 455",
}
CASH = {
    **GOOD,
    "commodity": "currency",
    "quantity": "1",
    "unit": "units",
    "currency": "eur",
    "amount": "250000",
}


def row(**changes) -> dict:
    return {**GOOD, **changes}


def csv_bytes(rows, columns=COLUMNS, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows, *, formula: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for values in rows:
        sheet.append([values[c] for c in COLUMNS])
    if formula:
        sheet["D2"] = formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def macro_enabled(content: bytes) -> bytes:
    """The same workbook with a VBA project inside, as Excel saves an .xlsm."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really VBA")
    return out.getvalue()


@pytest.fixture
def import_op():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def importer(import_op):
    return member(import_op, Role.OFFICER, "FR", "CDG", username="importer").user


@pytest.fixture
def stranger():
    return member(OperationFactory(slug="other-op"), Role.OFFICER, username="stranger").user


@pytest.fixture
def bearer():
    def for_user(user):
        _token, secret = api_token_create(user=user, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return for_user


def run_import(user, content, filename="seizures.csv", operation=None):
    return seizures_import(user=user, operation=operation, filename=filename, content=content)


# --- all or nothing -----------------------------------------------------------------------


def test_one_bad_row_among_good_ones_imports_nothing_and_lists_every_bad_row(importer):
    content = csv_bytes(
        [
            row(),
            row(quantity="-3"),  # line 3
            row(),
            row(commodity="currency", unit="kg", currency="EUR", amount="10"),  # line 5
            row(date="31/03/2024", persons_arrested="x"),  # line 6: two format errors
        ]
    )
    result = run_import(importer, content)
    assert result.imported == 0
    assert Seizure.objects.count() == 0
    found = {(e["line"], e["field"]) for e in result.errors}
    assert found == {(3, "quantity"), (5, "unit"), (6, "date"), (6, "persons_arrested")}
    assert all(e["message"] for e in result.errors)


def test_csv_happy_path_records_every_row_as_the_importer_in_the_operation(importer, import_op):
    content = csv_bytes([row(), CASH, row(date="2024-04-01T14:05", transit="")])
    result = run_import(importer, content, operation=import_op)
    assert (result.total, result.imported, result.errors) == (3, 3, [])
    seizures = list(Seizure.objects.order_by("id"))
    assert {s.reported_by for s in seizures} == {importer}
    assert {s.operation for s in seizures} == {import_op}
    first = seizures[0]
    assert first.country == "FR"
    assert first.transit == ["LIS", "PT"]
    assert first.arrested_nationalities == ["BR", "PT"]
    assert first.flight_number == "AF455"
    assert seizures[1].currency == "EUR"
    assert AuditEvent.objects.filter(action="seizure.imported", actor=importer).count() == 1


def test_csv_with_semicolons_and_a_bom_is_read(importer):
    content = b"\xef\xbb\xbf" + csv_bytes([row(transit="")], delimiter=";")
    assert run_import(importer, content).imported == 1


def test_xlsx_happy_path_with_real_date_and_number_cells(importer):
    from datetime import datetime

    values = row()
    values["date"] = datetime(2024, 3, 31, 14, 5)
    values["quantity"] = 12.5
    values["persons_arrested"] = 2
    result = run_import(importer, xlsx_bytes([values, CASH]), filename="seizures.xlsx")
    assert result.errors == []
    assert result.imported == 2
    assert Seizure.objects.get(commodity="cocaine").seized_at.hour == 14


# --- each bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "0"}, "quantity"),
        ({"commodity": "currency", "unit": "kg", "currency": "EUR", "amount": "5"}, "unit"),
        ({"airport": "XQZ"}, "airport"),
        ({"departure": "XX"}, "departure"),
        ({"destination": "QQQ"}, "destination"),
        ({"transit": "LIS;ZZ"}, "transit"),
        ({"nationalities": "BR;XX"}, "nationalities"),
        ({"date": (timezone.now() + timedelta(days=2)).date().isoformat()}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"quantity": "1,5"}, "quantity"),
        ({"commodity": "gold"}, "commodity"),
        ({"currency": "EUR", "amount": "-5"}, "amount"),
        ({"flight": "not a flight"}, "flight"),
        ({"persons_arrested": "1", "nationalities": "BR;PT"}, "nationalities"),
    ],
)
def test_a_bad_value_is_reported_on_its_line_and_column(importer, changes, field):
    result = run_import(importer, csv_bytes([row(), row(**changes)]))
    assert [(e["line"], e["field"]) for e in result.errors] == [(3, field)]
    assert Seizure.objects.count() == 0


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("seizures.csv", b"", "empty"),
        ("seizures.csv", b"date,airport\n", "bad_columns"),
        ("seizures.csv", csv_bytes([]), "empty"),
        ("seizures.csv", csv_bytes([row()]).replace(b"flight", b"flights"), "bad_columns"),
        ("seizures.csv", "é".encode("latin-1") + csv_bytes([row()]), "bad_encoding"),
        ("seizures.pdf", b"%PDF-1.4 ...", "unsupported_format"),
        ("seizures.xlsx", b"PK\x03\x04 broken zip", "invalid_file"),
        ("seizures.xlsx", b"not a zip at all", "invalid_file"),
        ("seizures.xlsm", xlsx_bytes([GOOD]), "macro"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_error(importer, filename, content, code):
    from aircop.exceptions import DomainError

    with pytest.raises(DomainError) as refused:
        run_import(importer, content, filename=filename)
    assert refused.value.field == "file"
    assert refused.value.code == code
    assert refused.value.message
    assert Seizure.objects.count() == 0


def test_an_xlsx_with_a_formula_is_refused(importer):
    from aircop.exceptions import DomainError

    with pytest.raises(DomainError) as refused:
        run_import(importer, xlsx_bytes([GOOD], formula="=1+2"), filename="s.xlsx")
    assert refused.value.code == "formula"
    assert "D2" in refused.value.message


def test_a_macro_enabled_workbook_is_refused_whatever_its_name(importer):
    from aircop.exceptions import DomainError

    with pytest.raises(DomainError) as refused:
        run_import(importer, macro_enabled(xlsx_bytes([GOOD])), filename="s.xlsx")
    assert refused.value.code == "macro"
    assert Seizure.objects.count() == 0


def test_too_many_rows_are_refused(importer, monkeypatch):
    from aircop.exceptions import DomainError

    monkeypatch.setattr("seizures.importing.MAX_ROWS", 2)
    with pytest.raises(DomainError) as refused:
        run_import(importer, csv_bytes([row(), row(), row()]))
    assert refused.value.code == "too_many_rows"
    assert MAX_ROWS == 50_000


def test_a_file_over_the_size_limit_is_refused(importer, monkeypatch):
    from aircop.exceptions import DomainError

    monkeypatch.setattr("seizures.import_services.MAX_BYTES", 100)
    with pytest.raises(DomainError) as refused:
        run_import(importer, csv_bytes([row(), row()]))
    assert refused.value.code == "too_large"


# --- templates ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_downloads_and_parses_back_to_the_columns(client, importer, fmt):
    client.force_login(importer)
    response = client.get(f"/seizures/import/template.{fmt}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    if fmt == "xlsx":
        header = next(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    else:
        header = next(csv.reader(io.StringIO(content.decode())))
    assert tuple(header) == COLUMNS
    assert read_table(f"template.{fmt}", content).rows == []


# --- the management command ---------------------------------------------------------------


def test_command_prints_progress_and_imports(tmp_path, importer, import_op):
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([row()] * 40))
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_seizures", str(path), user="importer", operation="cocair", stdout=out, stderr=err
    )
    assert "40 seizures imported" in out.getvalue()
    assert "100%" in err.getvalue() and "5%" in err.getvalue()
    assert Seizure.objects.filter(operation=import_op).count() == 40


def test_command_prints_row_errors_and_fails(tmp_path, importer):
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([row(), row(airport="XQZ")]))
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_seizures", str(path), user="importer", stderr=err)
    assert "line 3, airport" in err.getvalue()
    assert failed.value.returncode == 1
    assert Seizure.objects.count() == 0


def test_command_exits_non_zero_from_the_shell(tmp_path, importer):
    """The real exit status (CommandError → 1), not only the exception."""
    path = tmp_path / "s.csv"
    path.write_bytes(b"nonsense")
    argv = ["manage.py", "import_seizures", str(path), "--user", "importer"]
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()
    assert exited.value.code == 1


def test_command_refuses_an_operation_the_user_is_not_a_member_of(tmp_path, importer, stranger):
    path = tmp_path / "s.csv"
    path.write_bytes(csv_bytes([row()]))
    with pytest.raises(CommandError):
        call_command("import_seizures", str(path), user="stranger", operation="cocair")
    assert Seizure.objects.count() == 0


# --- the API ------------------------------------------------------------------------------


def test_api_answers_201_with_the_count(client, bearer, importer):
    upload = SimpleUploadedFile("s.csv", csv_bytes([row(), CASH]), content_type="text/csv")
    response = client.post(
        "/api/v1/seizures/import", {"file": upload, "operation": "cocair"}, **bearer(importer)
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"imported": 2}
    assert Seizure.objects.filter(operation__slug="cocair").count() == 2


def test_api_answers_400_with_every_row_error(client, bearer, importer):
    upload = SimpleUploadedFile("s.csv", csv_bytes([row(quantity="-1"), row(), row(unit="")]))
    response = client.post("/api/v1/seizures/import", {"file": upload}, **bearer(importer))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(2, "quantity"), (4, "unit")]
    assert Seizure.objects.count() == 0


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("s.xlsx", b"PK\x03\x04 broken"),
        ("s.csv", b"\xff\xfe\x00garbage"),
        ("s.xlsm", b"PK\x03\x04"),
    ],
)
def test_api_answers_400_for_a_malformed_file(client, bearer, importer, filename, content):
    upload = SimpleUploadedFile(filename, content)
    response = client.post("/api/v1/seizures/import", {"file": upload}, **bearer(importer))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_api_answers_400_without_a_file(client, bearer, importer):
    response = client.post("/api/v1/seizures/import", {}, **bearer(importer))
    assert response.status_code == 400


def test_api_non_member_cannot_import_into_an_operation(client, bearer, importer, stranger):
    upload = SimpleUploadedFile("s.csv", csv_bytes([row()]))
    response = client.post(
        "/api/v1/seizures/import", {"file": upload, "operation": "cocair"}, **bearer(stranger)
    )
    assert response.status_code == 404
    assert Seizure.objects.count() == 0


def test_api_refuses_an_archived_operation(client, bearer, importer, import_op):
    import_op.status = OperationStatus.ARCHIVED
    import_op.save()
    upload = SimpleUploadedFile("s.csv", csv_bytes([row()]))
    response = client.post(
        "/api/v1/seizures/import", {"file": upload, "operation": "cocair"}, **bearer(importer)
    )
    assert response.status_code == 404


def test_api_needs_authentication(client):
    upload = SimpleUploadedFile("s.csv", csv_bytes([row()]))
    assert client.post("/api/v1/seizures/import", {"file": upload}).status_code == 401


# --- the pages and the job ----------------------------------------------------------------


def test_upload_page_runs_the_job_and_shows_the_count(
    client, importer, import_op, django_capture_on_commit_callbacks
):
    client.force_login(importer)
    assert client.get("/seizures/import/").status_code == 200
    upload = SimpleUploadedFile("s.csv", csv_bytes([row(), row()]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/seizures/import/", {"file": upload, "operation": "cocair"})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/seizures/import/{job.id}/"
    assert (job.status, job.imported, job.total_rows, job.processed_rows) == ("done", 2, 2, 2)
    assert job.content is None
    assert Seizure.objects.filter(operation=import_op, reported_by=importer).count() == 2
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "js/seizures-import.js" in page.content.decode()
    status = client.get(response["Location"], {"format": "json"}).json()
    assert status["status"] == "done" and status["imported"] == 2 and status["finished"]


def test_job_page_lists_the_errors_table(client, importer, django_capture_on_commit_callbacks):
    client.force_login(importer)
    upload = SimpleUploadedFile("s.csv", csv_bytes([row(), row(airport="XQZ")]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/seizures/import/", {"file": upload})
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    assert job.errors[0]["line"] == 3 and job.errors[0]["field"] == "airport"
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-errors"' in page and "XQZ" in page
    assert Seizure.objects.count() == 0


def test_job_page_shows_a_refused_file(client, importer, django_capture_on_commit_callbacks):
    client.force_login(importer)
    upload = SimpleUploadedFile("s.xlsx", xlsx_bytes([GOOD], formula="=SUM(1,2)"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/seizures/import/", {"file": upload})
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    assert job.errors[0]["field"] == "file"
    assert "D2" in client.get(response["Location"]).content.decode()


def test_pending_job_page_polls_its_json(client, importer):
    job = ImportJob.objects.create(created_by=importer, filename="s.csv", content=b"x")
    client.force_login(importer)
    page = client.get(f"/seizures/import/{job.id}/").content.decode()
    assert 'data-status="pending"' in page
    assert f"/seizures/import/{job.id}/?format=json" in page
    assert client.get(f"/seizures/import/{job.id}/?format=json").json()["finished"] is False


def test_non_member_cannot_import_into_an_operation_from_the_page(client, import_op, stranger):
    client.force_login(stranger)
    upload = SimpleUploadedFile("s.csv", csv_bytes([row()]))
    response = client.post("/seizures/import/", {"file": upload, "operation": "cocair"})
    assert response.status_code == 404
    assert not ImportJob.objects.exists()


def test_nobody_else_sees_a_job(client, importer, stranger):
    job = ImportJob.objects.create(created_by=importer, filename="s.csv", content=b"x")
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    for other in (stranger, admin):
        client.force_login(other)
        assert client.get(f"/seizures/import/{job.id}/").status_code == 404
        assert client.get(f"/seizures/import/{job.id}/?format=json").status_code == 404


def test_pages_need_login(client):
    assert client.get("/seizures/import/").status_code == 302
    assert client.get("/seizures/import/template.csv").status_code == 302


def test_upload_page_refuses_an_oversized_file(client, importer, monkeypatch):
    monkeypatch.setattr("seizures.importing.MAX_BYTES", 10)
    client.force_login(importer)
    upload = SimpleUploadedFile("s.csv", csv_bytes([row()]))
    response = client.post("/seizures/import/", {"file": upload})
    assert response.status_code == 200
    assert not ImportJob.objects.exists()


def test_the_task_is_idempotent(importer, import_op, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = import_job_create(
            user=importer,
            operation=import_op,
            filename="s.csv",
            content=csv_bytes([row(), row()]),
        )
    assert len(queued) == 1
    import_seizures_task.delay(job.id)
    import_seizures_task.delay(job.id)
    import_seizures_task(job.id)
    job.refresh_from_db()
    assert (job.status, job.imported) == (ImportStatus.DONE, 2)
    assert Seizure.objects.count() == 2
    assert AuditEvent.objects.filter(action="seizure.imported").count() == 1


def test_the_uploaded_file_waits_encrypted_and_still_imports(
    importer, import_op, django_capture_on_commit_callbacks
):
    # given an upload waiting for its task
    content = csv_bytes([row(), row()])
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            user=importer, operation=import_op, filename="s.csv", content=content
        )
    # then what the database holds is no part of the file (a line of it, the column names)
    stored = bytes(ImportJob.objects.get(pk=job.pk).content)
    assert content.splitlines()[0] not in stored and content.splitlines()[1] not in stored
    # and the task reads it back and imports every row
    import_seizures_task(job.id)
    job.refresh_from_db()
    assert (job.status, job.imported, job.content) == (ImportStatus.DONE, 2, None)


def test_the_job_refuses_an_operation_the_creator_has_left(importer, import_op):
    job = ImportJob.objects.create(
        created_by=importer, operation=import_op, filename="s.csv", content=csv_bytes([row()])
    )
    importer.memberships.update(active=False)
    import_seizures_task(job.id)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert Seizure.objects.count() == 0
