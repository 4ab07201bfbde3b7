"""Reads of background exports: always the requester's own, and only while the requester may
still see what was exported (404 otherwise, never a hint that the export exists)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from aircop import crypto
from aircop.exceptions import NotFound

from .models import ExportJob, ExportKind, ExportStatus
from .register import NO_OPERATION, register_operations
from .statistics import results_access

RECENT = 50


def export_root() -> Path:
    return Path(settings.AIRCOP_EXPORT_ROOT)


def export_aad(job: ExportJob) -> bytes:
    """The identity an export file is bound to: another job's file does not decrypt as this."""
    return f"seizures.export:{job.uid}:{job.requested_by_id}".encode()


def exports_of(*, user: User) -> QuerySet[ExportJob]:
    if not user.is_authenticated or not user.is_active:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by=user).select_related("operation")[:RECENT]


def export_job_for(*, user: User, uid: UUID | str) -> ExportJob:
    """The user's own export; 404 for anyone else's."""
    job = (
        ExportJob.objects.select_related("operation")
        .filter(uid=uid, requested_by=user, requested_by__is_active=True)
        .first()
    )
    if job is None or not user.is_authenticated:
        raise NotFound(_("No such export."), field="export")
    return job


def export_still_visible(*, user: User, job: ExportJob) -> bool:
    """Whether the requester may still see what the export contains: the operation's results
    (member or administrator), or the register's operation filter."""
    try:
        if job.kind == ExportKind.RESULTS:
            results_access(user=user, slug=job.operation.slug)
        else:
            operation = job.filters.get("operation", "")
            if operation not in ("", NO_OPERATION) and operation not in {
                o.slug for o in register_operations(user=user)
            }:
                return False
    except Http404:
        return False
    return user.is_active


def export_download(*, user: User, uid: UUID | str) -> tuple[ExportJob, Iterator[bytes]]:
    """The file of a ready export, decrypted as it streams; 404 when it is not ready, has
    expired, or the requester may no longer see its content."""
    job = export_job_for(user=user, uid=uid)
    if (
        job.status != ExportStatus.READY
        or not job.storage_name
        or job.expires_at is None
        or job.expires_at <= timezone.now()
        or not export_still_visible(user=user, job=job)
    ):
        raise NotFound(_("No such export."), field="export")
    handle = (export_root() / job.storage_name).open("rb")
    try:
        chunks = crypto.decrypt_stream_chunks(handle, aad=export_aad(job))
    except BaseException:
        handle.close()
        raise

    def stream() -> Iterator[bytes]:
        with handle:
            yield from chunks

    return job, stream()
