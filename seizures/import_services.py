"""Writes of the bulk import: every row is checked first, then all are recorded or none.

``seizures_import`` serves the API and the management command (synchronous);
``import_job_create`` and ``import_job_run`` serve the web page, where a Celery task does the
work and the :class:`~seizures.models.ImportJob` row carries its progress and its errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Operation, User
from accounts.selectors import memberships_of
from aircop import crypto
from aircop.exceptions import DomainError, NotFound
from messaging.formatted import SeizureInput

from .importing import MAX_BYTES, read_table
from .importing import parse_row as row_parse
from .models import ImportJob, ImportStatus, import_content_aad
from .services import seizure_record

logger = logging.getLogger(__name__)

# progress(stage, done, total); stage is "check" (reading the rows) or "record" (storing them).
Progress = Callable[[str, int, int], None]


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    errors: list[dict] = field(default_factory=list)


@dataclass
class _Checked:
    total: int
    inputs: list[SeizureInput]
    errors: list[dict]


def _file_error(exc: DomainError) -> list[dict]:
    return [{"line": None, "field": exc.field or "file", "message": exc.message}]


def _ensure_member(*, user: User, operation: Operation | None) -> None:
    """Only an active member of a not archived operation imports into it; 404 for others."""
    if operation is None:
        return
    if not memberships_of(user=user).filter(operation=operation).exists():
        raise NotFound(_("Operation not found."), field="operation", code="not_found")


def _ensure_size(content: bytes) -> None:
    if len(content) > MAX_BYTES:
        raise DomainError(
            _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_BYTES // (1024 * 1024)},
            field="file",
            code="too_large",
        )


def _rows_check(*, filename: str, content: bytes, progress: Progress | None) -> _Checked:
    """Read the file (DomainError on ``file`` if refused) and check every row."""
    table = read_table(filename, content)
    total = len(table.rows)
    if total == 0:
        raise DomainError(_("The file has no seizure rows."), field="file", code="empty")
    inputs: list[SeizureInput] = []
    errors: list[dict] = []
    step = max(1, total // 100)
    if progress:
        progress("check", 0, total)
    for done, (line, values) in enumerate(table.rows, start=1):
        data, row_errors = row_parse(line, values)
        if row_errors:
            errors.extend(e.as_dict() for e in row_errors)
        else:
            inputs.append(data)
        if progress and (done % step == 0 or done == total):
            progress("check", done, total)
    return _Checked(total=total, inputs=inputs, errors=errors)


def _rows_record(
    *,
    user: User,
    operation: Operation | None,
    filename: str,
    inputs: list[SeizureInput],
    progress: Progress | None,
    job: ImportJob | None = None,
) -> int:
    """Inside the caller's transaction: record every seizure and audit the import."""
    total = len(inputs)
    step = max(1, total // 100)
    for done, data in enumerate(inputs, start=1):
        seizure_record(reported_by=user, operation=operation, data=data)
        if progress and (done % step == 0 or done == total):
            progress("record", done, total)
    audit_record(
        actor=user,
        action="seizure.imported",
        operation=operation,
        target=job,
        data={"filename": filename, "imported": total},
    )
    return total


def seizures_import(
    *,
    user: User,
    operation: Operation | None,
    filename: str,
    content: bytes,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a CSV or XLSX file: all its rows, or none when one is wrong.

    A refused file raises DomainError on ``file``; wrong rows come back in ``errors``
    (``line`` as in the file, header on line 1; ``field`` a column name) and nothing is stored.
    """
    _ensure_member(user=user, operation=operation)
    _ensure_size(content)
    checked = _rows_check(filename=filename, content=content, progress=progress)
    if checked.errors:
        return ImportResult(total=checked.total, errors=checked.errors)
    with transaction.atomic():
        imported = _rows_record(
            user=user,
            operation=operation,
            filename=filename,
            inputs=checked.inputs,
            progress=progress,
        )
    return ImportResult(total=checked.total, imported=imported)


# --- the web page's jobs ------------------------------------------------------------------


@transaction.atomic
def import_job_create(
    *, user: User, operation: Operation | None, filename: str, content: bytes
) -> ImportJob:
    """Store the upload as a pending job and, after commit, queue the task that imports it."""
    _ensure_member(user=user, operation=operation)
    _ensure_size(content)
    if not content:
        raise DomainError(_("The file is empty."), field="file", code="empty")
    job = ImportJob.objects.create(
        created_by=user, operation=operation, filename=(filename or "")[-200:]
    )
    # Encrypted at rest like every record of an operation, bound to the job's row.
    job.content = crypto.encrypt(content, aad=import_content_aad(job))
    job.save(update_fields=["content"])
    from .tasks import import_seizures_task  # the task module imports this one

    job_id = job.pk
    transaction.on_commit(lambda: import_seizures_task.delay(job_id))
    return job


def import_contents_rewrap() -> int:
    """Re-wrap the waiting uploads' data keys under the newest master key (key rotation);
    returns how many changed."""
    changed = 0
    for job in ImportJob.objects.filter(content__isnull=False).only("pk", "created_by", "content"):
        stored = bytes(job.content)
        if crypto.needs_rewrap(stored):
            content = crypto.rewrap(stored, aad=import_content_aad(job))
            changed += ImportJob.objects.filter(pk=job.pk, content__isnull=False).update(
                content=content
            )
    return changed


def _job_finish(job_id: int, *, status: str, errors: list[dict], imported: int = 0) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=status,
        errors=errors,
        imported=imported,
        content=None,
        finished_at=timezone.now(),
    )


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a pending job once: a second run (a redelivered task) finds it claimed and returns."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.select_related("created_by", "operation").get(pk=job_id)

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "check":
            ImportJob.objects.filter(pk=job_id).update(total_rows=total, processed_rows=done)

    try:
        _ensure_member(user=job.created_by, operation=job.operation)
        content = crypto.decrypt(bytes(job.content), aad=import_content_aad(job))
        checked = _rows_check(filename=job.filename, content=content, progress=progress)
        if checked.errors:
            _job_finish(job_id, status=ImportStatus.FAILED, errors=checked.errors)
        else:
            with transaction.atomic():
                imported = _rows_record(
                    user=job.created_by,
                    operation=job.operation,
                    filename=job.filename,
                    inputs=checked.inputs,
                    progress=None,
                    job=job,
                )
                _job_finish(job_id, status=ImportStatus.DONE, errors=[], imported=imported)
    except DomainError as exc:
        _job_finish(job_id, status=ImportStatus.FAILED, errors=_file_error(exc))
    except Exception:
        logger.exception("seizure import job %s failed", job_id)
        _job_finish(
            job_id,
            status=ImportStatus.FAILED,
            errors=[
                {
                    "line": None,
                    "field": "file",
                    "message": _("The import failed unexpectedly; nothing was stored."),
                }
            ],
        )
    job.refresh_from_db()
    return job
