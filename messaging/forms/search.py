"""The search form of the messages database (``selectors.search_messages``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aircop.forms import StyledFormMixin

from ..codes import HandlingCode, Priority
from ..models import MessageKind
from .fields import country_options


def _any(choices) -> list[tuple[str, str]]:
    return [("", _("Any")), *choices]


class SearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Words"), required=False, max_length=200)
    document = forms.CharField(label=_("Document number"), required=False, max_length=40)
    flight = forms.CharField(label=_("Flight number"), required=False, max_length=10)
    name = forms.CharField(label=_("Passenger name"), required=False, max_length=200)
    pnr = forms.CharField(label=_("Ticket / PNR reference"), required=False, max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_any(MessageKind.choices))
    sender = forms.CharField(label=_("Sender (user name)"), required=False, max_length=150)
    sender_country = forms.ChoiceField(
        label=_("Sender's country"), required=False, choices=country_options
    )
    airport = forms.CharField(label=_("Airport"), required=False, max_length=3)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=_any(Priority.choices)
    )
    handling_code = forms.ChoiceField(
        label=_("Handling code"), required=False, choices=_any(HandlingCode.choices)
    )
    ack = forms.ChoiceField(
        label=_("Acknowledgement"),
        required=False,
        choices=_any(
            [("acknowledged", _("Acknowledged by me")), ("pending", _("Not acknowledged by me"))]
        ),
    )

    def search_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["ack_state"] = data.pop("ack")
        return data

    def add_domain_error(self, field: str | None, message: str) -> None:
        name = "ack" if field == "ack_state" else field
        self.add_error(name if name in self.fields else None, message)
