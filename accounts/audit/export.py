"""The audit trail as CSV: the filtered events, and the export itself recorded in the trail."""

from __future__ import annotations

import csv
import io
import json

from django.db import transaction
from django.utils.translation import gettext as _

from aircop.exceptions import DomainError

from ..models import User
from . import audit_record
from .chain import created_at_text
from .selectors import AuditFilters, audit_events_for, audit_operations_of

EXPORT_MAX_EVENTS = 100_000


def _cell(value: str) -> str:
    """Text that a spreadsheet would run as a formula is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@transaction.atomic
def audit_export_csv(*, user: User, filters: AuditFilters) -> bytes:
    """The events the user may read that match the filters, oldest first, with their hashes
    (so the file can be checked against the chain later). All or nothing: above
    ``EXPORT_MAX_EVENTS`` the user is asked to narrow the filters."""
    events = audit_events_for(user=user, filters=filters)
    count = events.count()
    if count > EXPORT_MAX_EVENTS:
        raise DomainError(
            _("%(count)s events match; at most %(max)s are exported at once: narrow the dates.")
            % {"count": count, "max": EXPORT_MAX_EVENTS},
            field="from",
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Sequence"),
            _("Time (UTC)"),
            _("User"),
            _("Operation"),
            _("Action"),
            _("Object type"),
            _("Object id"),
            _("Details"),
            _("Previous hash"),
            _("Hash"),
        ]
    )
    for event in events.order_by("sequence").iterator(chunk_size=2000):
        writer.writerow(
            [
                event.sequence,
                created_at_text(event.created_at),
                _cell(event.actor.username if event.actor else ""),
                event.operation.slug if event.operation else "",
                event.action,
                event.object_type,
                _cell(event.object_id),
                _cell(json.dumps(event.data, ensure_ascii=False, sort_keys=True)),
                event.prev_hash,
                event.hash,
            ]
        )
    operation = None
    if filters.operation:
        operation = audit_operations_of(user=user).get(slug=filters.operation)
    audit_record(
        actor=user,
        action="audit.exported",
        operation=operation,
        data={"filters": filters.as_params(), "events": count},
    )
    return buffer.getvalue().encode("utf-8-sig")  # the BOM: spreadsheets then read UTF-8
