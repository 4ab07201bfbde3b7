"""API: the audit trail, for administrators (everything) and OCUs (their operations)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aircop.exceptions import DomainError

from .selectors import AuditFilters, audit_events_for

router = Router(tags=["audit"])

LIMIT_MAX = 500
DATE_FROM = Query(None, alias="from")  # `from` is a Python keyword


class AuditEventOut(Schema):
    sequence: int
    created_at: datetime
    actor: str | None
    operation: str | None
    action: str
    object_type: str
    object_id: str
    data: dict
    prev_hash: str
    hash: str


@router.get(
    "/audit",
    response=list[AuditEventOut],
    summary="Audit events, newest first (administrators; OCUs: their operations)",
    description="Filters: `user` (username; failed log-ins by the name tried), `operation` "
    "(slug), `action`, `from` / `to` (dates, inclusive). Page with `before` (the lowest "
    "`sequence` received) and `limit` (1–500, default 50). 404 without access to the trail or "
    "to the operation asked for.",
)
def audit_list(
    request,
    user: str = "",
    operation: str = "",
    action: str = "",
    date_from: date | None = DATE_FROM,
    to: date | None = None,
    before: int | None = None,
    limit: int = 50,
):
    if not 1 <= limit <= LIMIT_MAX:
        raise DomainError(_("Ask for 1 to %(max)s events.") % {"max": LIMIT_MAX}, field="limit")
    if date_from and to and to < date_from:
        raise DomainError(_("The end date is before the start date."), field="to")
    filters = AuditFilters(
        user=user.strip(), operation=operation, action=action, date_from=date_from, date_to=to
    )
    events = audit_events_for(user=request.auth, filters=filters)
    if before is not None:
        events = events.filter(sequence__lt=before)
    return [
        AuditEventOut(
            sequence=e.sequence,
            created_at=e.created_at,
            actor=e.actor.username if e.actor else None,
            operation=e.operation.slug if e.operation else None,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            data=e.data,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in events[:limit]
    ]
