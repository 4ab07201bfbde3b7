"""Reads of the audit trail, scoped to the acting user: an administrator (staff) sees every
event; an OCU the events of the operations it coordinates; anyone else nothing (404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ..models import AuditEvent, Membership, Operation, OperationStatus, Role, User


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""  # a username: what the user did, or tried to log in as
    operation: str = ""  # a slug
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_params(self) -> dict[str, str]:
        params = {"user": self.user, "operation": self.operation, "action": self.action}
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        return {k: v for k, v in params.items() if v}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _sees_everything(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def audit_operations_of(*, user: User) -> QuerySet[Operation]:
    """The operations whose events the user may read."""
    if _sees_everything(user):
        return Operation.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Operation.objects.none()
    coordinated = Membership.objects.filter(user=user, role=Role.OCU, active=True).values(
        "operation_id"
    )
    return Operation.objects.filter(pk__in=coordinated).exclude(status=OperationStatus.ARCHIVED)


def audit_access(*, user: User) -> bool:
    """Whether the user may open the audit trail at all."""
    return _sees_everything(user) or audit_operations_of(user=user).exists()


def audit_events_visible_to(*, user: User) -> QuerySet[AuditEvent]:
    if _sees_everything(user):
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(operation__in=audit_operations_of(user=user))


def audit_events_for(*, user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The events the user may read that match the filters, newest first. 404 for a user
    without access, or for an operation outside the user's reach."""
    if not audit_access(user=user):
        raise Http404
    events = audit_events_visible_to(user=user)
    if filters.operation:
        operation = audit_operations_of(user=user).filter(slug=filters.operation).first()
        if operation is None:
            raise Http404
        events = events.filter(operation=operation)
    if filters.user:
        events = events.filter(
            Q(actor__username=filters.user)
            | Q(action="user.login_failed", actor__isnull=True, data__username=filters.user)
        )
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.date_from:  # days in the current time zone; bounds that use the index
        events = events.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return events.select_related("actor", "operation").order_by("-sequence")
