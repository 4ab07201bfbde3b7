"""Exports built in the background: the results of an operation, the seizure register.

``export_job_request`` checks, at once, that the user may see what is asked (404 otherwise),
stores the job and enqueues its task after commit. ``export_job_build`` (the task) claims the
pending job with a conditional UPDATE (a second run does nothing), computes the export as the
requester, in the requester's language, through the same selectors as the pages, writes it
encrypted (``crypto.encrypt_stream``, bound to the job) under ``AIRCOP_EXPORT_ROOT``, marks it
ready with its expiry and writes the ``results.exported`` or ``register.exported`` audit row
in one transaction. A transient failure puts the job back to pending and the task retries; any
other failure marks it failed.
``export_jobs_expire`` deletes the files of expired exports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import asdict
from datetime import date, timedelta
from typing import BinaryIO
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from aircop import crypto
from aircop.celery import TRANSIENT_ERRORS
from aircop.exceptions import DomainError

from . import exports
from .export_selectors import export_aad, export_root
from .models import ExportError, ExportFormat, ExportJob, ExportKind, ExportStatus
from .register import RegisterFilters, seizures_registered
from .statistics import operation_results, results_access

logger = logging.getLogger(__name__)

# Plaintext is spooled in memory up to this size, then in an unlinked temporary file.
SPOOL_BYTES = 16 * 1024 * 1024
# A job still pending or running after this long was lost (a worker killed): marked failed.
STALE_AFTER = timedelta(hours=2)


def _filters_json(filters: RegisterFilters) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(filters).items()}


def _filters_from(data: dict) -> RegisterFilters:
    values = dict(data)
    for key in ("date_from", "date_to"):
        values[key] = date.fromisoformat(values[key]) if values.get(key) else None
    return RegisterFilters(**values)


def export_job_request(
    *,
    user: User,
    kind: str,
    fmt: str,
    slug: str = "",
    filters: RegisterFilters | None = None,
) -> ExportJob:
    """Ask for an export; it is built by a worker. 404 for an operation the user may not see."""
    if fmt not in ExportFormat.values:
        raise DomainError(_("Choose CSV or XLSX."), field="format")
    operation = None
    if kind == ExportKind.RESULTS:
        operation, _membership = results_access(user=user, slug=slug)
        stored_filters: dict = {}
    elif kind == ExportKind.REGISTER:
        filters = filters or RegisterFilters()
        seizures_registered(user=user, filters=filters)  # NotFound for a foreign operation
        stored_filters = _filters_json(filters)
    else:
        raise DomainError(_("Unknown export."), field="kind")
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user,
            kind=kind,
            format=fmt,
            operation=operation,
            filters=stored_filters,
            language=user.preferred_language or translation.get_language(),
        )
        transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import export_build

    export_build.delay(job_id)


def _write(job: ExportJob, out: BinaryIO) -> int:
    """The export's plaintext into ``out``; the number of lines (or figures) written."""
    user = job.requested_by
    if job.kind == ExportKind.RESULTS:
        figures = operation_results(user=user, slug=job.operation.slug)
        rows = exports.results_rows(figures)
        title = _("Results")
    else:
        seizures = seizures_registered(user=user, filters=_filters_from(job.filters))
        rows = exports.register_rows(
            seizures.select_related("operation", "reported_by").iterator(chunk_size=2000)
        )
        title = _("Seizure register")
    if job.format == ExportFormat.CSV:
        return exports.write_csv(rows, out)
    return exports.write_xlsx(title, rows, out)


def _store(job: ExportJob, plaintext: BinaryIO) -> tuple[str, int]:
    directory = export_root()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = uuid4().hex
    fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as dst:
            crypto.encrypt_stream(plaintext, dst, aad=export_aad(job))
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        _remove(name)
        raise
    return name, plaintext.tell()


def _remove(storage_name: str) -> None:
    if storage_name:
        with contextlib.suppress(FileNotFoundError):
            (export_root() / storage_name).unlink()


def _fail(job_id: int, error: str) -> None:
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, error=error, finished_at=timezone.now()
    )


def export_job_build(*, job_id: int) -> bool:
    """Build a pending export. True when this call built it."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return False
    job = ExportJob.objects.select_related("requested_by", "operation").get(pk=job_id)
    storage_name = ""
    try:
        with translation.override(job.language), tempfile.SpooledTemporaryFile(SPOOL_BYTES) as f:
            rows = _write(job, f)
            f.seek(0)
            storage_name, size = _store(job, f)
        now = timezone.now()
        with transaction.atomic():
            done = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
                status=ExportStatus.READY,
                storage_name=storage_name,
                rows=rows,
                size=size,
                finished_at=now,
                expires_at=now + timedelta(hours=settings.AIRCOP_EXPORT_TTL_HOURS),
            )
            if done:
                audit_record(
                    actor=job.requested_by,
                    action=f"{job.kind}.exported",
                    operation=job.operation,
                    target=job,
                    data={
                        "background": True,
                        "kind": job.kind,
                        "format": job.format,
                        "rows": rows,
                        "filters": job.filters,
                    },
                )
        if not done:
            _remove(storage_name)
        return bool(done)
    except (Http404, DomainError):
        _remove(storage_name)
        _fail(job_id, ExportError.FORBIDDEN)
        return False
    except TRANSIENT_ERRORS:
        _remove(storage_name)
        # Back to pending: the task's retry claims it again.
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
            status=ExportStatus.PENDING, started_at=None
        )
        raise
    except Exception:
        logger.exception("Export %s failed", job_id)
        _remove(storage_name)
        _fail(job_id, ExportError.FAILED)
        return False


def export_jobs_expire(*, now=None) -> int:
    """Delete the files of expired exports; fail the jobs a lost worker left behind."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportStatus.READY, expires_at__lte=now):
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.READY).update(
            status=ExportStatus.EXPIRED, storage_name=""
        ):
            _remove(job.storage_name)
            expired += 1
    ExportJob.objects.filter(
        status__in=[ExportStatus.PENDING, ExportStatus.RUNNING], created_at__lte=now - STALE_AFTER
    ).update(status=ExportStatus.FAILED, error=ExportError.INTERRUPTED, finished_at=now)
    return expired
