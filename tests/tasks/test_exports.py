"""Large exports in the background, end to end: ask, the task builds it (encrypted, audited,
in the requester's language), download while allowed, 404 otherwise, expiry; idempotent and
retried on a transient failure."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditEvent, Role
from accounts.services import api_token_create
from seizures import export_jobs, tasks
from seizures.export_selectors import export_root
from seizures.models import ExportJob, ExportStatus, Seizure
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.AIRCOP_EXPORT_ROOT = tmp_path / "exports"


def seizure(operation, reporter, **fields):
    values = {
        "seized_at": datetime(2017, 12, 10, 8, 0, tzinfo=UTC),
        "airport": "DSS",
        "country": "SN",
        "commodity": "cocaine",
        "quantity": Decimal("2.5"),
        "unit": "kg",
        "concealment": "checked_baggage",
        "detection": "profiling",
        "flight_number": "AT525",
        **fields,
    }
    return Seizure.objects.create(operation=operation, reported_by=reporter, **values)


@pytest.fixture
def register(cocair, officer, ocu):
    elsewhere = OperationFactory(slug="elsewhere")
    stranger = member(elsewhere, Role.OCU, username="stranger")
    seizure(cocair, officer.user, airport="DSS")
    seizure(cocair, ocu.user, airport="BRU", country="BE", commodity="cannabis")
    seizure(elsewhere, stranger.user, airport="GRU", country="BR", notes="secret note")
    return stranger


def ask(client, captured, **data):
    with captured(execute=True):
        response = client.post(reverse("exports:new"), data)
    assert response.status_code == 302, response.content
    return ExportJob.objects.get(uid=response["Location"].rstrip("/").split("/")[-1])


def download(client, job):
    return client.get(reverse("exports:download", args=[job.uid]))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_register_export_end_to_end(client, officer, register, django_capture_on_commit_callbacks):
    client.force_login(officer.user)
    job = ask(
        client,
        django_capture_on_commit_callbacks,
        kind="register",
        format="csv",
        operation="cocair",
    )
    job.refresh_from_db()
    assert job.status == ExportStatus.READY
    assert job.rows == 2
    page = client.get(reverse("exports:detail", args=[job.uid]))
    assert reverse("exports:download", args=[job.uid]) in page.content.decode()
    response = download(client, job)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    lines = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert len(lines) == 3
    assert {line[3] for line in lines[1:]} == {"DSS", "BRU"}
    assert "GRU" not in str(lines)
    # Stored encrypted, outside any public URL.
    (stored,) = list(export_root().iterdir())
    assert b"DSS" not in stored.read_bytes()
    assert b"AT525" not in stored.read_bytes()
    (event,) = AuditEvent.objects.filter(action__endswith=".exported", data__background=True)
    assert event.actor == officer.user
    assert event.data["kind"] == "register" and event.data["rows"] == 2


def test_results_export_xlsx_in_the_requesters_language(
    client, colleague, register, django_capture_on_commit_callbacks
):
    client.force_login(colleague.user)  # preferred language: French
    job = ask(
        client,
        django_capture_on_commit_callbacks,
        kind="results",
        format="xlsx",
        operation="cocair",
    )
    response = download(client, job)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] == "Saisies"  # "Seizures" in French
    assert rows[1][4] == 2
    (event,) = AuditEvent.objects.filter(action__endswith=".exported", data__background=True)
    assert event.operation.slug == "cocair"


def test_others_get_404_and_so_does_a_member_who_left(
    client, officer, register, django_capture_on_commit_callbacks
):
    client.force_login(officer.user)
    job = ask(
        client, django_capture_on_commit_callbacks, kind="results", format="csv", operation="cocair"
    )
    client.force_login(register.user)  # a member of another operation
    assert client.get(reverse("exports:detail", args=[job.uid])).status_code == 404
    assert download(client, job).status_code == 404
    client.force_login(officer.user)
    officer.active = False
    officer.save()
    assert download(client, job).status_code == 404


def test_an_outsider_cannot_ask_for_an_operations_export(
    client, register, django_capture_on_commit_callbacks
):
    client.force_login(register.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exports:new"), {"kind": "results", "format": "csv", "operation": "cocair"}
        )
    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def test_expired_exports_are_deleted_and_answer_404(
    client, officer, register, django_capture_on_commit_callbacks, settings
):
    settings.AIRCOP_EXPORT_TTL_HOURS = 1
    client.force_login(officer.user)
    job = ask(client, django_capture_on_commit_callbacks, kind="register", format="xlsx")
    assert len(list(export_root().iterdir())) == 1
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        client.force_login(officer.user)  # the first session has ended (idle) by now
        assert download(client, job).status_code == 404
        tasks.export_jobs_expire.delay()
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED
    assert list(export_root().iterdir()) == []


def test_building_twice_builds_once(officer, register):
    job = export_jobs.export_job_request(
        user=officer.user, kind="results", fmt="csv", slug="cocair"
    )
    assert tasks.export_build.delay(job.pk).get() is True
    assert tasks.export_build.delay(job.pk).get() is False
    assert len(list(export_root().iterdir())) == 1
    exported = AuditEvent.objects.filter(action__endswith=".exported", data__background=True)
    assert exported.count() == 1


def test_a_transient_failure_is_retried(officer, register, monkeypatch):
    job = export_jobs.export_job_request(user=officer.user, kind="register", fmt="csv")
    real = export_jobs._store
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_jobs, "_store", flaky)
    result = tasks.export_build.apply(args=(job.pk,), throw=False)
    assert result.successful() and result.result is True
    assert len(calls) == 2
    job.refresh_from_db()
    assert job.status == ExportStatus.READY


def test_the_api_asks_follows_and_downloads(
    client, officer, register, django_capture_on_commit_callbacks
):
    _token, secret = api_token_create(user=officer.user, name="script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports",
            {"kind": "register", "format": "csv", "filters": {"airport": "BRU"}},
            content_type="application/json",
            **auth,
        )
    assert response.status_code == 202
    uid = response.json()["uid"]
    state = client.get(f"/api/v1/exports/{uid}", **auth).json()
    assert state["status"] == "ready" and state["rows"] == 1
    file = client.get(state["download_url"], **auth)
    assert file.status_code == 200
    assert "BRU" in body(file).decode("utf-8-sig")
    bad = client.post(
        "/api/v1/exports",
        {"kind": "register", "format": "csv", "filters": {"commodity": "gold bars"}},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "filters.commodity"
    foreign = client.post(
        "/api/v1/exports",
        {"kind": "results", "format": "csv", "operation": "elsewhere"},
        content_type="application/json",
        **auth,
    )
    assert foreign.status_code == 404
