"""The recipients block, the common part of every message, the plain message and the forward."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from aircop.forms import StyledFormMixin

from ..codes import HandlingCode, Priority
from ..models import MessageKind
from ..routing import GROUP_TARGETS, Target, Targets, addressable_members, allowed_targets
from .fields import DOMAIN_PREFIXES, attachments_field, body_field


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
    attachments = attachments_field()

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
            "attachments": data.get("attachments") or [],
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


class ForwardForm(RecipientsForm):
    note = body_field(_("Note"), required=False, rows=4)

    def send_arguments(self) -> dict:
        return {"targets": self.targets(), "note": self.cleaned_data.get("note") or ""}
