"""The forms of the formatted kinds: Alert (with its passengers), Response, Seizure."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aircop.forms import StyledFormMixin
from seizures.codes import Commodity, Concealment, Detection, Unit

from ..codes import DocumentType, Outcome, Priority, RiskIndicator
from ..formatted import (
    MAX_SUBJECTS,
    MAX_TRANSIT,
    AlertInput,
    ResponseInput,
    SeizureInput,
    SubjectInput,
)
from ..models import MessageKind
from .base import MessageForm
from .fields import (
    MAX_NATIONALITIES,
    CodeField,
    ListField,
    airport_options,
    country_options,
    with_blank,
)


class SubjectForm(StyledFormMixin, forms.Form):
    """One passenger to control."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    nationality = CodeField(label=_("Nationality"), options=country_options, required=False)
    document_type = forms.ChoiceField(
        label=_("Travel document"), choices=with_blank(DocumentType.choices), required=False
    )
    document_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    pnr = forms.CharField(label=_("Ticket / PNR reference"), max_length=40, required=False)
    seat = forms.CharField(label=_("Seat"), max_length=5, required=False)

    def subject_input(self) -> SubjectInput:
        data = self.cleaned_data
        return SubjectInput(
            name=data["name"],
            date_of_birth=data["date_of_birth"],
            nationality=data["nationality"],
            document_type=data["document_type"],
            document_number=data["document_number"],
            pnr=data["pnr"],
            seat=data["seat"],
        )


SubjectFormSet = formset_factory(
    SubjectForm, extra=1, max_num=MAX_SUBJECTS, validate_max=True, absolute_max=MAX_SUBJECTS
)


class AlertForm(MessageForm):
    kind = MessageKind.ALERT

    flight_number = forms.CharField(
        label=_("Flight number"), max_length=10, widget=forms.TextInput(attrs={"size": 8})
    )
    airline = forms.CharField(label=_("Airline"), max_length=80, required=False)
    flight_date = forms.DateField(
        label=_("Flight date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    departure_airport = CodeField(label=_("Departure airport"), options=airport_options)
    transit_airports = ListField(
        label=_("Transit airports"),
        item_widget=forms.Select(choices=airport_options, attrs={"class": "form-select"}),
        max_items=MAX_TRANSIT,
        add_label=_("Add a transit airport"),
    )
    destination_airport = CodeField(label=_("Destination airport"), options=airport_options)
    air_waybill = forms.CharField(label=_("Air waybill"), max_length=30, required=False)
    consignor = forms.CharField(label=_("Consignor"), max_length=200, required=False)
    consignee = forms.CharField(label=_("Consignee"), max_length=200, required=False)
    declared_goods = forms.CharField(label=_("Declared goods"), max_length=300, required=False)
    suspected_commodity = forms.ChoiceField(
        label=_("Suspected commodity"), choices=with_blank(Commodity.choices), required=False
    )
    risk_indicators = forms.MultipleChoiceField(
        label=_("Risk indicators"),
        choices=RiskIndicator.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    requested_action = forms.CharField(
        label=_("Requested action"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        if not self.is_bound:
            self.fields["flight_date"].initial = timezone.localdate()
            self.fields["departure_airport"].initial = self.membership.user.airport
        self.subjects = SubjectFormSet(data, prefix="subjects")
        self.subject_errors: list[str] = []

    def is_valid(self):
        form_valid = super().is_valid()
        return self.subjects.is_valid() and form_valid

    def filled_subject_forms(self) -> list[SubjectForm]:
        """The passenger forms the officer filled, in order (empty ones are left out)."""
        return [f for f in self.subjects.forms if f.has_changed()]

    def details(self) -> AlertInput:
        data = self.cleaned_data
        return AlertInput(
            flight_number=data["flight_number"],
            airline=data["airline"],
            flight_date=data["flight_date"],
            departure_airport=data["departure_airport"],
            transit_airports=tuple(data["transit_airports"]),
            destination_airport=data["destination_airport"],
            subjects=tuple(f.subject_input() for f in self.filled_subject_forms()),
            air_waybill=data["air_waybill"],
            consignor=data["consignor"],
            consignee=data["consignee"],
            declared_goods=data["declared_goods"],
            suspected_commodity=data["suspected_commodity"],
            risk_indicators=tuple(data["risk_indicators"]),
            requested_action=data["requested_action"],
        )

    def add_domain_error(self, field: str | None, message: str) -> None:
        """``alert.subjects.N.name`` goes on the N-th filled passenger form, ``alert.subjects``
        above the passengers."""
        parts = (field or "").split(".")
        if parts[:2] == ["alert", "subjects"]:
            filled = self.filled_subject_forms()
            if len(parts) == 4 and parts[2].isdigit() and int(parts[2]) < len(filled):
                form = filled[int(parts[2])]
                name = parts[3] if parts[3] in form.fields else None
                form.add_error(name, message)
                if name:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
            else:
                self.subject_errors.append(message)
            return
        super().add_domain_error(field, message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.subject_errors or any(self.subjects.errors))


# --- Response -------------------------------------------------------------------------------


class ResponseForm(MessageForm):
    kind = MessageKind.RESPONSE
    recipients_required = False
    recipients_note = _(
        "The response goes to the alert's sender and to the OCUs of the operation. "
        "Add recipients here only if others should have it too."
    )

    outcome = forms.ChoiceField(label=_("Outcome"), choices=with_blank(Outcome.choices))
    not_controlled_reason = forms.CharField(
        label=_("Why it was not controlled"), max_length=300, required=False
    )
    action_taken = forms.CharField(
        label=_("Action taken"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def details(self) -> ResponseInput:
        data = self.cleaned_data
        return ResponseInput(
            outcome=data["outcome"],
            not_controlled_reason=data["not_controlled_reason"],
            action_taken=data["action_taken"],
        )


# --- Seizure --------------------------------------------------------------------------------


class SeizureFields(forms.Form):
    """The fields of a seizure, shared by the Seizure message form and the register's own
    forms (seizures/forms.py): direct entry and correction."""

    seized_at = forms.DateTimeField(
        label=_("Date and time of seizure"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    airport = CodeField(label=_("Airport of seizure"), options=airport_options)
    commodity = forms.ChoiceField(label=_("Commodity"), choices=with_blank(Commodity.choices))
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=14,
        decimal_places=3,
        widget=forms.NumberInput({"step": "any"}),
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.KG)
    currency = forms.CharField(
        label=_("Currency code"),
        max_length=3,
        required=False,
        widget=forms.TextInput(
            attrs={"list": "currency-codes", "autocomplete": "off", "size": 4, "class": "code"}
        ),
        help_text=_("Required for currency: the ISO 4217 code, e.g. EUR, USD, XOF."),
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=16,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput({"step": "any"}),
    )
    usd_value = forms.DecimalField(
        label=_("Value in USD"),
        max_digits=16,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput({"step": "any"}),
    )
    concealment = forms.ChoiceField(
        label=_("Concealment method"), choices=with_blank(Concealment.choices)
    )
    detection = forms.ChoiceField(
        label=_("Detection method"), choices=with_blank(Detection.choices)
    )
    flight_number = forms.CharField(label=_("Flight number"), max_length=10, required=False)
    departure = forms.CharField(
        label=_("From"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"list": "route-places", "autocomplete": "off", "size": 4}),
    )
    transit = ListField(
        label=_("Via"),
        item_widget=forms.TextInput(
            attrs={
                "list": "route-places",
                "autocomplete": "off",
                "size": 4,
                "maxlength": 3,
                "class": "form-control code",
            }
        ),
        max_items=MAX_TRANSIT,
        add_label=_("Add a stop"),
    )
    destination = forms.CharField(
        label=_("To"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"list": "route-places", "autocomplete": "off", "size": 4}),
    )
    persons_arrested = forms.IntegerField(label=_("Persons arrested"), initial=0, min_value=0)
    arrested_nationalities = ListField(
        label=_("Nationalities of the persons arrested"),
        item_widget=forms.Select(choices=country_options, attrs={"class": "form-select"}),
        max_items=MAX_NATIONALITIES,
        add_label=_("Add a nationality"),
    )
    companies_incriminated = forms.IntegerField(
        label=_("Companies incriminated"), initial=0, min_value=0
    )

    def set_seizure_initial(self, user) -> None:
        """A new seizure: now, at the user's airport."""
        self.fields["seized_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["airport"].initial = user.airport

    def seizure_input(self) -> SeizureInput:
        data = self.cleaned_data
        return SeizureInput(
            seized_at=data["seized_at"],
            airport=data["airport"],
            commodity=data["commodity"],
            quantity=data["quantity"],
            unit=data["unit"],
            concealment=data["concealment"],
            detection=data["detection"],
            currency=data["currency"],
            amount=data["amount"],
            usd_value=data["usd_value"],
            flight_number=data["flight_number"],
            departure=data["departure"],
            transit=tuple(data["transit"]),
            destination=data["destination"],
            persons_arrested=data["persons_arrested"],
            arrested_nationalities=tuple(data["arrested_nationalities"]),
            companies_incriminated=data["companies_incriminated"],
        )


class SeizureForm(SeizureFields, MessageForm):
    kind = MessageKind.SEIZURE
    recipients_required = False
    recipients_note = _(
        "With no recipient chosen, the seizure report goes to the OCUs of the operation."
    )

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        if self.alert is not None:
            self.recipients_note = _(
                "The seizure report goes to the alert's sender and to the OCUs of the operation. "
                "Add recipients here only if others should have it too."
            )
        if not self.is_bound:
            self.set_seizure_initial(self.membership.user)

    def details(self) -> SeizureInput:
        return self.seizure_input()


# --- Forward --------------------------------------------------------------------------------
