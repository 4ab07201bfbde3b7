"""Pages of background exports: ask for one, follow it, download it. Thin: check, call a
service or selector, render."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from aircop.exceptions import DomainError, NotFound
from messaging.attachments import download_response

from . import exports
from .export_jobs import export_job_request
from .export_selectors import export_download, export_job_for, exports_of
from .forms import SeizureFilterForm
from .models import ExportFormat, ExportKind, ExportStatus

CONTENT_TYPES = {
    ExportFormat.CSV: exports.CSV_CONTENT_TYPE,
    ExportFormat.XLSX: exports.XLSX_CONTENT_TYPE,
}
REFRESH_SECONDS = 3


def _back(request, kind: str, slug: str):
    if kind == ExportKind.RESULTS and slug:
        return redirect("statistics:results", slug=slug)
    return redirect("seizures:register")


@login_required
@require_POST
def export_new(request):
    kind = request.POST.get("kind", "")
    fmt = request.POST.get("format", "")
    slug = request.POST.get("operation", "") if kind == ExportKind.RESULTS else ""
    filters = None
    if kind == ExportKind.REGISTER:
        form = SeizureFilterForm(request.POST, user=request.user)
        if not form.is_valid():
            flash.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return _back(request, kind, slug)
        filters = form.filters()
    try:
        job = export_job_request(user=request.user, kind=kind, fmt=fmt, slug=slug, filters=filters)
    except NotFound:
        raise
    except DomainError as error:
        flash.error(request, error.message)
        return _back(request, kind, slug)
    return redirect("exports:detail", uid=job.uid)


@login_required
@require_GET
def export_list(request):
    return render(request, "seizures/exports.html", {"jobs": exports_of(user=request.user)})


@login_required
@require_GET
def export_detail(request, uid):
    job = export_job_for(user=request.user, uid=uid)
    waiting = job.status in (ExportStatus.PENDING, ExportStatus.RUNNING)
    return render(
        request,
        "seizures/export_job.html",
        {"job": job, "waiting": waiting, "refresh_seconds": REFRESH_SECONDS},
    )


@login_required
@require_GET
def export_file(request, uid):
    job, chunks = export_download(user=request.user, uid=uid)
    return download_response(chunks, content_type=CONTENT_TYPES[job.format], filename=job.filename)
