"""The sending forms: a plain message, an Alert, a Response, a Seizure, a forward.

They parse what the browser sends (dates, numbers, choices) and build the inputs of
:mod:`messaging.formatted`; the domain rules (airport and country codes, dates, quantities,
currencies, handling codes) are applied once, by ``message_send``, whose ``DomainError`` the
form places on the field it names (:meth:`RecipientsForm.add_domain_error`).
"""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.airports import airport_choices
from accounts.models import Membership
from aircop.forms import StyledFormMixin
from seizures.codes import Commodity, Concealment, Detection, Unit

from .codes import DocumentType, HandlingCode, Outcome, Priority, RiskIndicator
from .formatted import (
    MAX_SUBJECTS,
    MAX_TRANSIT,
    AlertInput,
    ResponseInput,
    SeizureInput,
    SubjectInput,
)
from .models import BODY_MAX, MessageKind
from .routing import GROUP_TARGETS, Target, Targets, addressable_members, allowed_targets

MAX_NATIONALITIES = 30
DOMAIN_PREFIXES = ("to.", "alert.", "response.", "seizure.")


def airport_options():
    return [("", "—"), *airport_choices()]


def country_options():
    return [("", "—"), *((code, name) for code, name in countries)]


def _blank(choices):
    return [("", "—"), *choices]


class MessageBodyField(forms.CharField):
    """Browsers submit line breaks as CRLF; count them as one character, as the counter does."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


def body_field(label, *, required: bool = True, rows: int = 10) -> MessageBodyField:
    return MessageBodyField(
        label=label,
        required=required,
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": rows, "data-char-limit": BODY_MAX}),
    )


class CodeField(forms.CharField):
    """A code picked from a data list (airport, country): a select whose value the domain
    checks, so that an unknown code gets the domain's message naming it."""

    def __init__(self, *, options, **kwargs):
        kwargs.setdefault("max_length", 3)
        super().__init__(widget=forms.Select(choices=options), **kwargs)


class RepeatedWidget(forms.Widget):
    """The same input several times under one name, in order (transit stops, nationalities).

    Without JavaScript it shows the values given and one empty slot; aircop.js adds slots."""

    def __init__(self, item: forms.Widget, *, max_items: int, add_label, attrs=None):
        super().__init__(attrs)
        self.item = item
        self.max_items = max_items
        self.add_label = add_label

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.item = self.item.__deepcopy__(memo)
        return copy

    def value_from_datadict(self, data, files, name):
        getlist = getattr(data, "getlist", None)
        return getlist(name) if getlist else list(data.get(name) or [])

    def value_omitted_from_data(self, data, files, name):
        return False

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        base_id = attrs.get("id") or f"id_{name}"
        invalid = "is-invalid" in attrs.get("class", "")
        values = [v for v in (value or []) if v][: self.max_items]
        if len(values) < self.max_items:
            values.append("")
        item_css = self.item.attrs.get("class", "")
        if invalid:
            item_css = f"{item_css} is-invalid"

        def item(index, item_value):
            item_attrs = {"id": base_id if index == 0 else f"{base_id}_{index}", "class": item_css}
            return (self.item.render(name, item_value, item_attrs, renderer),)

        return format_html(
            '<div class="repeat" data-repeat data-repeat-max="{}">{}'
            '<button type="button" class="btn btn-sm btn-outline-secondary repeat-add" '
            "data-repeat-add>{}</button></div>",
            self.max_items,
            format_html_join(
                "", '<div class="repeat-item">{}</div>', (item(i, v) for i, v in enumerate(values))
            ),
            self.add_label,
        )


class ListField(forms.Field):
    """An ordered list of codes from a RepeatedWidget; empty slots are dropped."""

    def __init__(self, *, item_widget: forms.Widget, max_items: int, add_label, **kwargs):
        kwargs.setdefault("required", False)
        widget = RepeatedWidget(item_widget, max_items=max_items, add_label=add_label)
        super().__init__(widget=widget, **kwargs)
        self.max_items = max_items

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(v).strip() for v in value if v and str(v).strip()]

    def validate(self, value):
        super().validate(value)
        if len(value) > self.max_items:
            raise forms.ValidationError(
                _("At most %(n)d values."), code="too_many", params={"n": self.max_items}
            )


# --- the recipients block and the parts every message shares ----------------------------


class RecipientsForm(StyledFormMixin, forms.Form):
    """The recipients block shared by every sending form: the group targets the sender's role
    allows and a manual selection of members (templates/messaging/_recipients.html)."""

    # False when the message has default recipients (a Response: the alert's sender and the
    # OCUs; a Seizure: the OCUs): then the block only adds to them.
    recipients_required = True
    recipients_note = ""

    users = forms.MultipleChoiceField(
        label=_("Selected members"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        allowed = allowed_targets(membership)
        self.group_targets = [t for t in GROUP_TARGETS if t in allowed]
        for target in self.group_targets:
            self.fields[target.value] = forms.BooleanField(label=target.label, required=False)
        self.members = list(addressable_members(membership))
        self.fields["users"].choices = [(m.user.username, m.user.username) for m in self.members]
        if Target.USERS not in allowed:
            del self.fields["users"]

    def target_fields(self):
        return [self[target.value] for target in self.group_targets]

    def member_rows(self):
        """(membership, checked) for the manual selection, in the order of addressable_members."""
        if "users" not in self.fields:
            return []
        chosen = set(self["users"].value() or ())
        return [(m, m.user.username in chosen) for m in self.members]

    def clean(self):
        cleaned = super().clean()
        if not self.recipients_required:
            return cleaned
        chosen = any(cleaned.get(t.value) for t in self.group_targets) or cleaned.get("users")
        if not chosen and "users" not in self.errors:
            raise forms.ValidationError(_("Choose at least one recipient."), code="no_recipient")
        return cleaned

    def targets(self) -> Targets:
        data = self.cleaned_data
        return Targets(
            ocus=bool(data.get("ocus")),
            national_contacts=bool(data.get("national_contacts")),
            officers=bool(data.get("officers")),
            my_country=bool(data.get("my_country")),
            users=tuple(data.get("users") or ()),
        )

    def add_domain_error(self, field: str | None, message: str) -> None:
        """Place a service's DomainError on the field it names (``to.users`` → ``users``,
        ``alert.transit_airports.2`` → ``transit_airports``), else on the whole form."""
        name = field or ""
        for prefix in DOMAIN_PREFIXES:
            name = name.removeprefix(prefix)
        parts = [p for p in name.split(".") if p and not p.isdigit()]
        target = next((p for p in reversed(parts) if p in self.fields), None)
        self.add_error(target, message)
        if target is not None:
            widget = self.fields[target].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class MessageForm(RecipientsForm):
    """A RecipientsForm with the parts of every message: subject, text, handling code."""

    kind = MessageKind.FREE_TEXT

    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        required=False,
        help_text=_("Leave empty for a subject made from the details."),
    )
    body = body_field(_("Free text"), required=False, rows=5)
    # Not required: a post without it (a script, an old page) means H0.
    handling_code = forms.ChoiceField(
        label=_("Handling code"),
        choices=HandlingCode.choices,
        initial=HandlingCode.H0,
        required=False,
    )
    handling_note = forms.CharField(
        label=_("Restriction (H3)"),
        max_length=300,
        required=False,
        help_text=_("Required with H3: the restriction the recipients must respect."),
    )

    def __init__(self, *args, membership: Membership, alert=None, **kwargs):
        super().__init__(*args, membership=membership, **kwargs)
        self.alert = alert  # the Alert a Response or a Seizure is about

    def details(self):
        return None

    def send_arguments(self) -> dict:
        """The keyword arguments of ``message_send`` this form gives (besides sender,
        operation and alert_id)."""
        data = self.cleaned_data
        return {
            "kind": self.kind,
            "subject": data["subject"],
            "body": data.get("body") or "",
            "targets": self.targets(),
            "priority": data.get("priority") or Priority.NORMAL,
            "handling_code": data.get("handling_code") or HandlingCode.H0,
            "handling_note": data.get("handling_note") or "",
            "details": self.details(),
        }


class ComposeForm(MessageForm):
    """A plain message."""

    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = body_field(_("Message"))

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("The message is empty."))
        return body


# --- Alert ----------------------------------------------------------------------------------


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
        label=_("Travel document"), choices=_blank(DocumentType.choices), required=False
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
        label=_("Suspected commodity"), choices=_blank(Commodity.choices), required=False
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

    outcome = forms.ChoiceField(label=_("Outcome"), choices=_blank(Outcome.choices))
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


class SeizureForm(MessageForm):
    kind = MessageKind.SEIZURE
    recipients_required = False
    recipients_note = _(
        "With no recipient chosen, the seizure report goes to the OCUs of the operation."
    )

    seized_at = forms.DateTimeField(
        label=_("Date and time of seizure"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    airport = CodeField(label=_("Airport of seizure"), options=airport_options)
    commodity = forms.ChoiceField(label=_("Commodity"), choices=_blank(Commodity.choices))
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
        label=_("Concealment method"), choices=_blank(Concealment.choices)
    )
    detection = forms.ChoiceField(label=_("Detection method"), choices=_blank(Detection.choices))
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

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        if self.alert is not None:
            self.recipients_note = _(
                "The seizure report goes to the alert's sender and to the OCUs of the operation. "
                "Add recipients here only if others should have it too."
            )
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.fields["seized_at"].initial = now
            self.fields["airport"].initial = self.membership.user.airport

    def details(self) -> SeizureInput:
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


# --- Forward --------------------------------------------------------------------------------


class ForwardForm(RecipientsForm):
    note = body_field(_("Note"), required=False, rows=4)

    def send_arguments(self) -> dict:
        return {"targets": self.targets(), "note": self.cleaned_data.get("note") or ""}
