"""The compose form: content, the group targets the sender's role allows, a manual selection."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from aircop.forms import StyledFormMixin

from .models import BODY_MAX, MessageKind
from .routing import GROUP_TARGETS, Target, Targets, addressable_members, allowed_targets


class MessageBodyField(forms.CharField):
    """Browsers submit line breaks as CRLF; count them as one character, as the counter does."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class ComposeForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=MessageKind.choices, initial=MessageKind.FREE_TEXT
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = MessageBodyField(
        label=_("Message"),
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "data-char-limit": BODY_MAX}),
    )
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

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("The message is empty."))
        return body

    def clean(self):
        cleaned = super().clean()
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
        """Place a service's DomainError on the matching field (``to.users`` → ``users``)."""
        name = (field or "").removeprefix("to.")
        self.add_error(name if name in self.fields else None, message)
