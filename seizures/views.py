"""Pages of the seizure register: the list with its filters, direct entry, detail with the
correction history, correction. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_countries import countries

from accounts.selectors import CURRENT_OPERATION_SESSION_KEY
from aircop.exceptions import DomainError
from messaging.attachments import THUMBNAIL_CONTENT_TYPE, download_response
from messaging.display import airport_label, country_names, number, place_label, route_places
from messaging.selectors import attachments_of, message_for

from . import photos as seizure_photos
from . import services
from .codes import CURRENCIES, Commodity, Concealment, Detection, Unit
from .forms import SeizureCorrectionForm, SeizureEntryForm, SeizureFilterForm
from .models import Seizure
from .register import RegisterFilters, seizures_registered
from .selectors import photo_for, photos_of, seizure_for

PAGE_SIZE = 50

# --- presentation: codes shown in the reader's language ----------------------------------------


def present(seizure: Seizure) -> Seizure:
    """The labels templates/messaging/_seizure_details.html and the register show."""
    seizure.airport_label = airport_label(seizure.airport)
    seizure.quantity_label = number(seizure.quantity)
    seizure.amount_label = number(seizure.amount)
    seizure.usd_label = number(seizure.usd_value)
    seizure.route_labels = [
        place_label(code)
        for code in (seizure.departure, *seizure.transit, seizure.destination)
        if code
    ]
    seizure.route_codes = [
        code for code in (seizure.departure, *seizure.transit, seizure.destination) if code
    ]
    seizure.nationality_names = country_names(seizure.arrested_nationalities)
    return seizure


_CHOICES = {
    "commodity": Commodity,
    "unit": Unit,
    "concealment": Concealment,
    "detection": Detection,
}


def _value_label(name: str, value, photo_names: dict[str, str]) -> str:
    """A value of the correction history (as stored: JSON) in the reader's language."""
    if value in (None, "", []):
        return "—"
    if name == "photos":
        return ", ".join(photo_names.get(uid, uid) for uid in value)
    if name in _CHOICES:
        return str(dict(_CHOICES[name].choices).get(value, value))
    if name == "airport":
        return airport_label(value)
    if name == "country":
        return countries.name(value) or value
    if name in ("departure", "destination"):
        return place_label(value)
    if name == "transit":
        return ", ".join(place_label(code) for code in value)
    if name == "arrested_nationalities":
        return ", ".join(country_names(value))
    if name in ("quantity", "amount", "usd_value"):
        try:
            return number(Decimal(value))
        except (InvalidOperation, TypeError):
            return str(value)
    if name == "seized_at":
        try:
            return formats.date_format(
                timezone.localtime(datetime.fromisoformat(value)), "DATETIME_FORMAT"
            )
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _history(seizure: Seizure) -> list[dict]:
    labels = {
        f.name: f.verbose_name for f in Seizure._meta.get_fields() if hasattr(f, "verbose_name")
    }
    labels["photos"] = _("photos")
    photo_names = {str(p.uid): p.filename for p in photos_of(seizure=seizure, removed=True)}
    return [
        {
            "revision": revision,
            "changes": [
                {
                    "label": labels.get(name, name),
                    "before": _value_label(name, revision.before.get(name), photo_names),
                    "after": _value_label(name, value, photo_names),
                }
                for name, value in revision.after.items()
            ],
        }
        for revision in seizure.revisions.select_related("changed_by")
    ]


def _readable_message(user, message_id):
    """A message (the report, the alert) if the user may read it, else None."""
    if message_id is None:
        return None
    try:
        return message_for(user=user, message_id=message_id)
    except Http404:
        return None


def _form_context(**extra) -> dict:
    return {"route_places": route_places(), "currencies": sorted(CURRENCIES), **extra}


# --- pages ----------------------------------------------------------------------------------


@login_required
def register(request):
    form = SeizureFilterForm(request.GET or None, user=request.user)
    page = None
    status = 200
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else RegisterFilters()
        try:
            seizures = seizures_registered(user=request.user, filters=filters)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            status = 400
        else:
            page = Paginator(seizures, PAGE_SIZE).get_page(request.GET.get("page"))
            for seizure in page.object_list:
                present(seizure)
    else:
        status = 400
    return render(request, "seizures/register.html", {"form": form, "page": page}, status=status)


@login_required
def seizure_new(request):
    data = request.POST if request.method == "POST" else None
    form = SeizureEntryForm(
        data,
        files=request.FILES if data is not None else None,
        user=request.user,
        operation=request.GET.get("operation")
        or request.session.get(CURRENT_OPERATION_SESSION_KEY, ""),
        alert_id=request.GET.get("alert") if (request.GET.get("alert") or "").isdigit() else None,
    )
    if data is not None and form.is_valid():
        try:
            seizure = services.seizure_create(
                reported_by=request.user,
                operation=form.chosen_operation(),
                data=form.seizure_input(),
                alert=form.cleaned_data["alert_id"],
                notes=form.cleaned_data["notes"],
                photos=form.cleaned_data["photos"],
            )
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
        else:
            flash.success(request, _("Seizure recorded in the register."))
            return redirect("seizures:detail", seizure_id=seizure.id)
    return render(
        request,
        "seizures/form.html",
        _form_context(form=form, seizure=None),
        status=400 if data is not None else 200,
    )


@login_required
def detail(request, seizure_id):
    seizure = present(seizure_for(user=request.user, seizure_id=seizure_id))
    report = _readable_message(request.user, seizure.message_id)
    return render(
        request,
        "seizures/detail.html",
        {
            "seizure": seizure,
            "seizure_holder": {"seizure": seizure},  # what _seizure_details.html reads
            "report": report,
            # The photos of the Seizure message that reported it, when the viewer may read it,
            # and those added in the register.
            "report_photos": (
                [a for a in attachments_of(message=report) if a.is_image] if report else []
            ),
            "photos": photos_of(seizure=seizure),
            "alert": _readable_message(request.user, seizure.alert_id),
            "history": _history(seizure),
            "can_correct": services.seizure_correctable_by(user=request.user, seizure=seizure),
        },
    )


@login_required
def edit(request, seizure_id):
    seizure = seizure_for(user=request.user, seizure_id=seizure_id)
    if not services.seizure_correctable_by(user=request.user, seizure=seizure):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    photos = photos_of(seizure=seizure)
    form = SeizureCorrectionForm(
        data,
        files=request.FILES if data is not None else None,
        seizure=seizure,
        photos=photos,
    )
    if data is not None and form.is_valid():
        try:
            services.seizure_correct(
                user=request.user,
                seizure=seizure,
                data=form.seizure_input(),
                notes=form.cleaned_data["notes"],
                reason=form.cleaned_data["reason"],
                photos_added=form.cleaned_data["photos"],
                photos_removed=form.cleaned_data.get("photos_removed") or (),
            )
        except DomainError as error:
            form.add_domain_error(error.field, error.message)
        else:
            flash.success(request, _("Seizure corrected."))
            return redirect("seizures:detail", seizure_id=seizure.id)
    chosen = set(data.getlist("photos_removed")) if data is not None else set()
    for photo in photos:
        photo.removal_chosen = str(photo.uid) in chosen
    return render(
        request,
        "seizures/form.html",
        _form_context(form=form, seizure=present(seizure), photos=photos),
        status=400 if data is not None else 200,
    )


# --- photos -----------------------------------------------------------------------------------


@login_required
@require_GET
def photo_download(request, seizure_id, uid):
    """The photo, for whoever may see the seizure (audited); 404 for anyone else."""
    photo = photo_for(user=request.user, seizure_id=seizure_id, uid=uid)
    chunks = seizure_photos.photo_download(user=request.user, photo=photo)
    return download_response(chunks, content_type=photo.content_type, filename=photo.filename)


@login_required
@require_GET
def photo_thumbnail(request, seizure_id, uid):
    photo = photo_for(user=request.user, seizure_id=seizure_id, uid=uid)
    if not photo.has_thumbnail:
        raise Http404
    chunks = seizure_photos.photo_download(user=request.user, photo=photo, thumbnail=True)
    return download_response(chunks, content_type=THUMBNAIL_CONTENT_TYPE, filename=None)
