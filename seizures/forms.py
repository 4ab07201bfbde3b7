"""Forms of the register: direct entry, correction, and the register's filters.

The seizure fields themselves are those of the Seizure message form
(``messaging.forms.formatted.SeizureFields``); the domain rules are ``validate_seizure``'s,
applied by the services."""

from __future__ import annotations

from dataclasses import replace

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import memberships_of
from aircop.forms import StyledFormMixin
from messaging.formatted import MAX_COUNT, SeizureInput
from messaging.forms.fields import (
    DOMAIN_PREFIXES,
    MultipleFileField,
    airport_options,
    country_options,
    with_blank,
)
from messaging.forms.formatted import SeizureFields

from .codes import Commodity, Detection
from .models import Seizure, SeizurePhoto
from .photos import MAX_PER_SEIZURE
from .register import DEFAULT_SORT, NO_OPERATION, RegisterFilters, register_operations
from .services import NOTES_MAX, REASON_MAX


class _SeizureForm(StyledFormMixin, SeizureFields):
    """The seizure fields, with notes, and the service's errors placed on their field."""

    notes = forms.CharField(
        label=_("Notes"),
        max_length=NOTES_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultipleFileField(label=_("Add photos"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].widget.attrs["accept"] = "image/*"
        self.fields["photos"].help_text = gettext(
            "JPEG, PNG, GIF, WebP or HEIC images, %(limit)d per seizure at most. Select several "
            "files at once to add more than one."
        ) % {"limit": MAX_PER_SEIZURE}
        for name in ("persons_arrested", "companies_incriminated"):
            self.fields[name].validators.append(MaxValueValidator(MAX_COUNT))

    def add_domain_error(self, field: str | None, message: str) -> None:
        """``seizure.transit.2`` → ``transit``; an error naming no field of the form goes
        above it."""
        name = field or ""
        for prefix in DOMAIN_PREFIXES:
            name = name.removeprefix(prefix)
        parts = [p for p in name.split(".") if p and not p.isdigit()]
        target = next((p for p in reversed(parts) if p in self.fields), None)
        self.add_error(target, message)
        if target is not None:
            widget = self.fields[target].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class SeizureEntryForm(_SeizureForm):
    """A seizure recorded directly in the register, without a message."""

    operation = forms.ChoiceField(
        label=_("Operation"),
        required=False,
        help_text=_("One of your open operations, or none."),
    )
    alert_id = forms.IntegerField(
        label=_("Alert number"),
        required=False,
        min_value=1,
        help_text=_(
            "If the seizure follows an alert: its number (the seizure then belongs to "
            "the alert's operation)."
        ),
    )

    def __init__(self, data=None, *, user, operation: str = "", alert_id=None, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        memberships = [m for m in memberships_of(user=user) if m.operation.accepts_messages]
        self.operations = {m.operation.slug: m.operation for m in memberships}
        self.fields["operation"].choices = [
            ("", _("No operation")),
            *((m.operation.slug, m.operation.name) for m in memberships),
        ]
        if not self.is_bound:
            self.set_seizure_initial(user)
            if operation in self.operations:
                self.fields["operation"].initial = operation
            if alert_id:
                self.fields["alert_id"].initial = alert_id

    def chosen_operation(self):
        return self.operations.get(self.cleaned_data.get("operation") or "")


class SeizureCorrectionForm(_SeizureForm):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=REASON_MAX,
        help_text=_("Kept in the seizure's history with the values before and after."),
    )

    photos_removed = forms.MultipleChoiceField(
        label=_("Remove photos"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, data=None, *, seizure: Seizure, photos: list[SeizurePhoto] = (), **kwargs):
        initial = {
            name: getattr(seizure, name)
            for name in (
                "seized_at",
                "airport",
                "commodity",
                "quantity",
                "unit",
                "currency",
                "amount",
                "usd_value",
                "concealment",
                "detection",
                "flight_number",
                "departure",
                "transit",
                "destination",
                "persons_arrested",
                "arrested_nationalities",
                "companies_incriminated",
                "notes",
            )
        }
        super().__init__(data, initial=initial, **kwargs)
        self.seizure = seizure
        self.fields["photos_removed"].choices = [(str(p.uid), p.filename) for p in photos]
        if not photos:
            del self.fields["photos_removed"]

    def seizure_input(self) -> SeizureInput:
        """The page shows the time to the minute: the same minute keeps the stored time."""
        data = super().seizure_input()
        stored = self.seizure.seized_at
        if data.seized_at == stored.replace(second=0, microsecond=0):
            data = replace(data, seized_at=stored)
        return data


# --- the register's filters ------------------------------------------------------------------

SORT_CHOICES = [
    ("-date", _("Newest first")),
    ("date", _("Oldest first")),
    ("-quantity", _("Largest quantity first")),
    ("quantity", _("Smallest quantity first")),
    ("airport", _("Airport (A to Z)")),
    ("-airport", _("Airport (Z to A)")),
    ("commodity", _("Commodity (A to Z)")),
    ("-commodity", _("Commodity (Z to A)")),
]


class SeizureFilterForm(StyledFormMixin, forms.Form):
    """The register's filters, as a GET form: an unknown value is a form error."""

    operation = forms.ChoiceField(label=_("Operation"), required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    commodity = forms.ChoiceField(
        label=_("Commodity"), choices=with_blank(Commodity.choices), required=False
    )
    airport = forms.ChoiceField(label=_("Airport of seizure"), required=False)
    country = forms.ChoiceField(label=_("Country of seizure"), required=False)
    route_country = forms.ChoiceField(
        label=_("Route country"),
        required=False,
        help_text=_("Departure, transit or destination, an airport counting as its country."),
    )
    detection = forms.ChoiceField(
        label=_("Detection method"), choices=with_blank(Detection.choices), required=False
    )
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["operation"].choices = [
            ("", _("All")),
            (NO_OPERATION, _("No operation")),
            *((o.slug, o.name) for o in register_operations(user=user)),
        ]
        self.fields["airport"].choices = airport_options()
        self.fields["country"].choices = country_options()
        self.fields["route_country"].choices = country_options()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned

    def filters(self) -> RegisterFilters:
        data = self.cleaned_data
        return RegisterFilters(
            operation=data["operation"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            commodity=data["commodity"],
            airport=data["airport"],
            country=data["country"],
            route_country=data["route_country"],
            detection=data["detection"],
            sort=data["sort"] or DEFAULT_SORT,
        )
