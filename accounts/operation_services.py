"""Creating an operation, from scratch or from an earlier one (copying its members and roles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_countries import countries as all_countries

from aircop.exceptions import Conflict, DomainError

from .airports import airport
from .audit import audit_record
from .lifecycle import status_on
from .models import Membership, Operation, User

ACK_MINUTES_MAX = 7 * 24 * 60
RESERVED_SLUGS = {"new"}  # /manage/operations/new/ is the creation page


@dataclass
class OperationInput:
    """What an administrator writes about a new operation. ``names`` and ``descriptions`` map a
    language code to the text in that language; the default language's name is required."""

    slug: str
    names: dict[str, str]
    start_date: date
    end_date: date
    descriptions: dict[str, str] = field(default_factory=dict)
    countries: list[str] = field(default_factory=list)
    airports: list[str] = field(default_factory=list)
    ack_minutes_urgent: int = 15
    ack_minutes_normal: int = 120


def _clean(data: OperationInput) -> OperationInput:
    languages = dict(settings.LANGUAGES)
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    names = {code: (text or "").strip() for code, text in data.names.items() if code in languages}
    if not names.get(default):
        raise DomainError(_("Give the operation a name."), field=f"name_{default}")
    for code, text in names.items():
        if len(text) > 150:
            raise DomainError(_("At most 150 characters."), field=f"name_{code}")
    slug = (data.slug or "").strip()
    if not slug or slugify(slug) != slug or len(slug) > 50 or slug in RESERVED_SLUGS:
        raise DomainError(
            _("Use lower-case letters, digits and hyphens only (at most 50)."), field="slug"
        )
    if data.end_date < data.start_date:
        raise DomainError(_("The end date is before the start date."), field="end_date")
    countries = []
    for code in data.countries:
        code = (code or "").strip().upper()
        if code not in all_countries:
            raise DomainError(
                _("Unknown country code: %(code)s.") % {"code": code}, field="countries"
            )
        if code not in countries:
            countries.append(code)
    airports = []
    for code in data.airports:
        code = (code or "").strip().upper()
        if airport(code) is None:
            raise DomainError(
                _("Unknown airport code: %(code)s.") % {"code": code}, field="airports"
            )
        if code not in airports:
            airports.append(code)
    for name, minutes in (
        ("ack_minutes_urgent", data.ack_minutes_urgent),
        ("ack_minutes_normal", data.ack_minutes_normal),
    ):
        if not 1 <= minutes <= ACK_MINUTES_MAX:
            raise DomainError(
                _("Between 1 minute and 7 days (%(max)s minutes).") % {"max": ACK_MINUTES_MAX},
                field=name,
            )
    descriptions = {
        code: (text or "").strip() for code, text in data.descriptions.items() if code in languages
    }
    return OperationInput(
        slug=slug,
        names=names,
        descriptions=descriptions,
        start_date=data.start_date,
        end_date=data.end_date,
        countries=countries,
        airports=airports,
        ack_minutes_urgent=data.ack_minutes_urgent,
        ack_minutes_normal=data.ack_minutes_normal,
    )


def _slug_taken() -> Conflict:
    return Conflict(_("Another operation already uses this slug."), field="slug", code="slug_taken")


@transaction.atomic
def operation_create(
    *, actor: User, data: OperationInput, copy_from: Operation | None = None
) -> Operation:
    """Create an operation (administrators only), in the status its dates give it today.

    With ``copy_from``, the earlier operation's active members join it with the same roles."""
    if not actor.is_staff:
        raise PermissionDenied
    data = _clean(data)
    if Operation.objects.filter(slug=data.slug).exists():
        raise _slug_taken()
    translated = {f"name_{code}": text for code, text in data.names.items() if text}
    translated |= {f"description_{code}": text for code, text in data.descriptions.items()}
    operation = Operation(
        slug=data.slug,
        start_date=data.start_date,
        end_date=data.end_date,
        status=status_on(
            start_date=data.start_date, end_date=data.end_date, today=timezone.localdate()
        ),
        countries=data.countries,
        airports=data.airports,
        ack_minutes_urgent=data.ack_minutes_urgent,
        ack_minutes_normal=data.ack_minutes_normal,
        created_from=copy_from,
        **translated,
    )
    try:
        with transaction.atomic():  # a concurrent creation with the same slug
            operation.save()
    except IntegrityError as error:
        raise _slug_taken() from error
    audit_record(
        actor=actor,
        action="operation.created",
        operation=operation,
        target=operation,
        data={"slug": operation.slug, "copied_from": copy_from.slug if copy_from else None},
    )
    if copy_from is not None:
        _copy_members(actor=actor, source=copy_from, operation=operation)
    return operation


def _copy_members(*, actor: User, source: Operation, operation: Operation) -> None:
    earlier = list(
        Membership.objects.filter(operation=source, active=True, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    copies = Membership.objects.bulk_create(
        [Membership(user=m.user, operation=operation, role=m.role) for m in earlier]
    )
    for membership in copies:
        audit_record(
            actor=actor,
            action="membership.added",
            operation=operation,
            target=membership,
            data={"user": membership.user.username, "role": membership.role, "copied": True},
        )
