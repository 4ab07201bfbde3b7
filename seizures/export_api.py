"""API of background exports: ask for one (202), follow it, download it when ready.
Thin: parse, call a service or selector, answer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.urls import reverse
from ninja import Router, Schema, Status

from aircop.exceptions import DomainError
from messaging.attachments import download_response

from .export_jobs import export_job_request
from .export_selectors import export_download, export_job_for, exports_of
from .export_views import CONTENT_TYPES
from .forms import SeizureFilterForm
from .models import ExportJob, ExportKind, ExportStatus

router = Router(tags=["exports"])


class RegisterFiltersIn(Schema):
    operation: str = ""
    date_from: str = ""
    date_to: str = ""
    commodity: str = ""
    airport: str = ""
    country: str = ""
    route_country: str = ""
    detection: str = ""
    sort: str = ""


class ExportIn(Schema):
    kind: str  # "results" or "register"
    format: str  # "csv" or "xlsx"
    operation: str = ""  # results: the operation's slug
    filters: RegisterFiltersIn | None = None  # register: as on the register page


class ExportOut(Schema):
    uid: UUID
    kind: str
    format: str
    operation: str | None
    status: str
    rows: int
    size: int
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    error: str
    download_url: str | None


def _out(job: ExportJob) -> dict:
    return {
        "uid": job.uid,
        "kind": job.kind,
        "format": job.format,
        "operation": job.operation.slug if job.operation_id else None,
        "status": job.status,
        "rows": job.rows,
        "size": job.size,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "error": job.error,
        "download_url": reverse("api:export_download", kwargs={"uid": job.uid})
        if job.status == ExportStatus.READY
        else None,
    }


@router.post(
    "/exports", response={202: ExportOut}, summary="Ask for an export built in the background"
)
def export_create(request, payload: ExportIn):
    """`kind` `results` (with `operation`) or `register` (with optional `filters`), `format`
    `csv` or `xlsx`. Answers 202 at once; poll `GET /exports/{uid}` until `status` is `ready`,
    then download from `download_url`. 404 for an operation you may not see."""
    filters = None
    if payload.kind == ExportKind.REGISTER:
        form = SeizureFilterForm((payload.filters or RegisterFiltersIn()).dict(), user=request.auth)
        if not form.is_valid():
            field, errors = next(iter(form.errors.items()))
            raise DomainError(errors[0], field=f"filters.{field}")
        filters = form.filters()
    job = export_job_request(
        user=request.auth,
        kind=payload.kind,
        fmt=payload.format,
        slug=payload.operation,
        filters=filters,
    )
    job.refresh_from_db()
    return Status(202, _out(job))


@router.get("/exports", response=list[ExportOut], summary="My recent exports")
def export_list(request):
    return [_out(job) for job in exports_of(user=request.auth)]


@router.get("/exports/{uid}", response=ExportOut, summary="One of my exports")
def export_detail(request, uid: UUID):
    return _out(export_job_for(user=request.auth, uid=uid))


@router.get(
    "/exports/{uid}/download",
    summary="The file of a ready export",
    url_name="export_download",
    response={200: None},
)
def export_download_file(request, uid: UUID):
    """404 when not ready, expired, or when you may no longer see what it contains."""
    job, chunks = export_download(user=request.auth, uid=uid)
    return download_response(chunks, content_type=CONTENT_TYPES[job.format], filename=job.filename)
