"""API of the bulk import: POST a CSV or XLSX file, all rows imported or none.
Thin: parse, call the service, answer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from accounts.selectors import membership_for
from aircop.exceptions import DomainError

from .import_services import seizures_import
from .importing import MAX_BYTES

router = Router(tags=["seizures"])


class ImportedOut(Schema):
    imported: int


class ImportErrorOut(Schema):
    line: int | None = None
    field: str
    message: str


class ImportRefusedOut(Schema):
    detail: str
    errors: list[ImportErrorOut]


def _refused(message: str, errors: list[dict]) -> Status:
    return Status(400, {"detail": message, "errors": errors})


@router.post(
    "/seizures/import",
    response={201: ImportedOut, 400: ImportRefusedOut},
    summary="Import seizures from a CSV or XLSX file (all rows or none)",
)
def seizures_import_create(
    request,
    file: File[UploadedFile] = None,
    operation: Form[str] = "",
):
    """Multipart upload with `file` (CSV or XLSX with the columns of the template) and an
    optional `operation` slug. Every row is checked first: if any is wrong, nothing is imported
    and 400 lists every error as `line` (as in the file, the header is line 1), `field` (the
    column) and `message`."""
    target = membership_for(user=request.auth, slug=operation).operation if operation else None
    if file is None:
        message = _("Upload a CSV or an XLSX file.")
        return _refused(message, [{"line": None, "field": "file", "message": message}])
    if file.size > MAX_BYTES:
        message = _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_BYTES // 2**20}
        return _refused(message, [{"line": None, "field": "file", "message": message}])
    try:
        result = seizures_import(
            user=request.auth, operation=target, filename=file.name or "", content=file.read()
        )
    except DomainError as exc:
        if exc.status_code != 400:
            raise
        field = exc.field or "file"
        return _refused(exc.message, [{"line": None, "field": field, "message": exc.message}])
    if result.errors:
        return _refused(
            ngettext(
                "Nothing was imported: %(count)d error.",
                "Nothing was imported: %(count)d errors.",
                len(result.errors),
            )
            % {"count": len(result.errors)},
            result.errors,
        )
    return Status(201, {"imported": result.imported})
