"""Pages of the bulk import: the upload form, the job page (and its JSON for the poll), the
templates to download. Thin: check, call a service or selector, render."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.selectors import membership_for, memberships_of
from aircop.exceptions import DomainError
from aircop.forms import StyledFormMixin

from . import importing
from .codes import Commodity, Concealment, Detection, Unit
from .import_selectors import import_job_for, import_jobs_of
from .import_services import import_job_create
from .models import ImportStatus

TEMPLATE_FILES = {
    "csv": ("text/csv; charset=utf-8", importing.template_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        importing.template_xlsx,
    ),
}
MAX_ERRORS_SHOWN = 1000


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    # A plain field: an operation the user is not a member of answers 404, not a form error.
    operation = forms.CharField(
        label=gettext_lazy("Operation"),
        required=False,
        widget=forms.Select,
        help_text=gettext_lazy("Only an active member of an operation imports into it."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].widget.choices = [("", _("No operation"))] + [
            (m.operation.slug, m.operation.name) for m in memberships_of(user=user)
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(mb)d MB).")
                % {"mb": importing.MAX_BYTES // (1024 * 1024)}
            )
        return upload


def _column_help() -> list[tuple[str, str]]:
    return [
        ("date", _("Date of the seizure: 2024-03-31, or date and time 2024-03-31T14:05.")),
        ("airport", _("IATA code of the airport of seizure (e.g. CDG).")),
        ("commodity", _("A commodity code from the list below.")),
        ("quantity", _("Greater than zero; a dot for decimals.")),
        ("unit", _("A unit code from the list below.")),
        ("currency", _("Cash only: ISO 4217 code (e.g. EUR).")),
        ("amount", _("Cash only: the amount seized.")),
        ("departure", _("IATA airport code or ISO country code.")),
        ("transit", _("Airport or country codes separated by “;”.")),
        ("destination", _("IATA airport code or ISO country code.")),
        ("concealment", _("A concealment code from the list below.")),
        ("detection", _("A detection code from the list below.")),
        ("persons_arrested", _("A whole number; empty means 0.")),
        ("nationalities", _("ISO country codes separated by “;”, no more than persons arrested.")),
        ("flight", _("Flight number (e.g. AF718), optional.")),
    ]


@login_required
def upload(request):
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            slug = form.cleaned_data["operation"]
            operation = membership_for(user=request.user, slug=slug).operation if slug else None
            upload_file = form.cleaned_data["file"]
            try:
                job = import_job_create(
                    user=request.user,
                    operation=operation,
                    filename=upload_file.name,
                    content=upload_file.read(),
                )
            except DomainError as exc:
                form.add_error("file" if exc.field == "file" else None, exc.message)
            else:
                return redirect("seizure_import:job", job_id=job.pk)
    else:
        form = ImportForm(user=request.user, initial={"operation": request.GET.get("operation")})
    return render(
        request,
        "seizures/import_upload.html",
        {
            "form": form,
            "columns": _column_help(),
            "code_lists": [
                (_("Commodities"), Commodity.choices),
                (_("Units"), Unit.choices),
                (_("Concealment"), Concealment.choices),
                (_("Detection"), Detection.choices),
            ],
            "max_mb": importing.MAX_BYTES // (1024 * 1024),
            "max_rows": importing.MAX_ROWS,
            "jobs": import_jobs_of(user=request.user).select_related("operation")[:10],
        },
    )


@login_required
@require_GET
def job_detail(request, job_id: int):
    job = import_job_for(user=request.user, job_id=job_id)
    finished = job.status in (ImportStatus.DONE, ImportStatus.FAILED)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "id": job.pk,
                "status": job.status,
                "status_label": job.get_status_display(),
                "total_rows": job.total_rows,
                "processed_rows": job.processed_rows,
                "imported": job.imported,
                "error_count": len(job.errors),
                "finished": finished,
            }
        )
    return render(
        request,
        "seizures/import_job.html",
        {
            "job": job,
            "finished": finished,
            "errors": job.errors[:MAX_ERRORS_SHOWN],
            "error_count": len(job.errors),
            "errors_cut": len(job.errors) > MAX_ERRORS_SHOWN,
            "max_errors_shown": MAX_ERRORS_SHOWN,
        },
    )


@login_required
@require_GET
def template_download(request, fmt: str):
    if fmt not in TEMPLATE_FILES:
        raise Http404
    content_type, build = TEMPLATE_FILES[fmt]
    response = HttpResponse(build(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="aircop-seizures.{fmt}"'
    return response
