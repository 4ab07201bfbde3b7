"""Fields and widgets shared by the sending forms."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.airports import airport_choices

from ..models import BODY_MAX

MAX_NATIONALITIES = 30
DOMAIN_PREFIXES = ("to.", "alert.", "response.", "seizure.")


def airport_options():
    return [("", "—"), *airport_choices()]


def country_options():
    return [("", "—"), *((code, name) for code, name in countries)]


def with_blank(choices):
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


class MultipleFileInput(forms.FileInput):
    """``<input type=file multiple>``: attaching more files is selecting more files."""

    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"multiple": True, **(attrs or {})})


class MultipleFileField(forms.FileField):
    """Several files; the service decides what may be attached (by content) and the limits."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def attachments_field():
    return MultipleFileField(
        label=_("Attach files"),
        required=False,
        help_text=_(
            "Images, PDF, office documents, plain text or CSV. Select several files at once "
            "to attach more than one."
        ),
    )
