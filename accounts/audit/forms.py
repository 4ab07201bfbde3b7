"""The audit page's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aircop.forms import StyledFormMixin

from . import AuditAction
from .selectors import AuditFilters, audit_operations_of


class AuditFilterForm(StyledFormMixin, forms.Form):
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    # A slug, checked by the selector: an operation outside the user's reach answers 404.
    operation = forms.SlugField(label=_("Operation"), required=False, widget=forms.Select)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions")), *AuditAction.choices],
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["operation"].widget.choices = [
            ("", _("All operations")),
            *audit_operations_of(user=user)
            .order_by("-start_date", "name")
            .values_list("slug", "name"),
        ]

    def add_prefix(self, field_name):  # the query string says `from` and `to`
        return {"date_from": "from", "date_to": "to"}.get(field_name, field_name)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            user=data["user"].strip(),
            operation=data["operation"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
