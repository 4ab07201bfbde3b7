"""Forms of the operation-administration pages. They parse; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from aircop.forms import StyledFormMixin

from .airports import airport_choices
from .models import Operation, OperationStatus, Role

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES)[code])


class OperationForm(StyledFormMixin, forms.Form):
    """Name and description in each language (the default language's name is required)."""

    slug = forms.SlugField(
        label=_("Slug"),
        max_length=50,
        help_text=_("Short name in addresses, e.g. “cocair-7”: lower-case letters, digits, -."),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DATE_WIDGET)
    end_date = forms.DateField(
        label=_("End date"), widget=DATE_WIDGET, help_text=_("The operation's last day.")
    )
    countries = forms.MultipleChoiceField(
        label=_("Participating countries"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    airports = forms.CharField(
        label=_("Participating airports"),
        required=False,
        help_text=_("IATA codes separated by commas or spaces, e.g. “DSS, BRU, CDG”."),
    )
    ack_minutes_urgent = forms.IntegerField(
        label=_("Acknowledgement deadline for urgent alerts (minutes)"), initial=15, min_value=1
    )
    ack_minutes_normal = forms.IntegerField(
        label=_("Acknowledgement deadline for normal alerts (minutes)"), initial=120, min_value=1
    )
    copy_from = forms.ModelChoiceField(
        label=_("Copy the members and roles of"),
        queryset=Operation.objects.none(),
        required=False,
        empty_label=_("(no earlier operation)"),
    )

    def __init__(self, *args, operations=None, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {}
        for code, _name in settings.LANGUAGES:
            required = code == settings.MODELTRANSLATION_DEFAULT_LANGUAGE
            fields[f"name_{code}"] = forms.CharField(
                label=_("Name (%(language)s)") % {"language": _language_name(code)},
                max_length=150,
                required=required,
            )
        for code, _name in settings.LANGUAGES:
            fields[f"description_{code}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": _language_name(code)},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.fields = {**fields, **self.fields}
        self.fields["countries"].choices = list(countries)
        if operations is not None:
            self.fields["copy_from"].queryset = operations
        # The mixin styled the declared fields during __init__; style the added ones too.
        for name in fields:
            widget = self.fields[name].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} form-control".strip()

    def clean_airports(self) -> list[str]:
        raw = self.cleaned_data.get("airports") or ""
        return [code for code in raw.replace(",", " ").replace(";", " ").upper().split() if code]

    def language_fields(self):
        """(language name, name field, description field) for each language, for the page."""
        return [
            (
                _language_name(code),
                self[f"name_{code}"],
                self[f"description_{code}"],
            )
            for code, _name in settings.LANGUAGES
        ]


class OperationStatusForm(forms.Form):
    status = forms.ChoiceField(choices=OperationStatus.choices)


class MemberAddForm(StyledFormMixin, forms.Form):
    user = forms.CharField(
        label=_("Username or e-mail"), max_length=254, help_text=_("An existing account.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.OFFICER)


class MemberRoleForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InvitationForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.OFFICER)
    country = forms.ChoiceField(label=_("Country"), required=False)
    airport = forms.ChoiceField(label=_("Airport"), required=False)
    language = forms.ChoiceField(
        label=_("Language of the e-mail and of the account"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *countries]
        self.fields["airport"].choices = [("", "—"), *airport_choices()]


class MemberImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One member a line: username or e-mail, role (ocu, national_contact, officer), "
            "country (ISO code, optional), airport (IATA code, optional)."
        ),
    )


class InvitationAcceptForm(StyledFormMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned
