"""The life of an operation: planned → active → closed → archived.

By date (``operations_advance``, run by a scheduled Celery task): a planned operation becomes
active on its start date, and a planned or active one is closed the day after its end date
(the end date is the operation's last day). By hand, administrators move an operation one step
along the same path (``operation_set_status``). A closed operation is read-only: no new message,
seizure or member; its members keep its history, search and results. An archived operation is
visible to administrators only. Every change is audited (``operation.status_changed``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aircop.exceptions import DomainError

from .audit import audit_record
from .events import operation_revoked_on_commit
from .models import Membership, Operation, OperationStatus, User

Status = OperationStatus

# The steps an administrator may take by hand, from each status.
MANUAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.PLANNED: (Status.ACTIVE, Status.CLOSED),
    Status.ACTIVE: (Status.CLOSED,),
    Status.CLOSED: (Status.ARCHIVED,),
    Status.ARCHIVED: (),
}


def status_on(*, start_date: date, end_date: date, today: date) -> str:
    """The status an operation with these dates has on ``today`` (never archived by date)."""
    if today > end_date:
        return Status.CLOSED
    if today >= start_date:
        return Status.ACTIVE
    return Status.PLANNED


def next_statuses(operation: Operation) -> tuple[str, ...]:
    return MANUAL_TRANSITIONS.get(operation.status, ())


def _change(*, operation: Operation, status: str, actor: User | None, automatic: bool) -> Operation:
    previous = operation.status
    operation.status = status
    operation.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="operation.status_changed",
        operation=operation,
        target=operation,
        data={"from": previous, "to": status, "automatic": automatic},
    )
    if status == Status.ARCHIVED:
        members = Membership.objects.filter(operation=operation, active=True)
        operation_revoked_on_commit(
            user_ids=members.values_list("user_id", flat=True), slug=operation.slug
        )
    return operation


@transaction.atomic
def operation_set_status(*, actor: User, operation: Operation, status: str) -> Operation:
    """An administrator moves the operation one step along its life (audited)."""
    if not actor.is_staff:
        raise PermissionDenied
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if status not in Status.values:
        raise DomainError(_("Choose one of the offered statuses."), field="status")
    if status not in next_statuses(operation):
        raise DomainError(
            _("An operation that is %(current)s cannot become %(status)s.")
            % {
                "current": operation.get_status_display().lower(),
                "status": Status(status).label.lower(),
            },
            field="status",
            code="invalid_transition",
        )
    return _change(operation=operation, status=status, actor=actor, automatic=False)


@dataclass(frozen=True)
class StatusChange:
    slug: str
    previous: str
    status: str


def operations_advance(*, today: date | None = None) -> list[StatusChange]:
    """Bring every planned or active operation to the status its dates give it today.

    Idempotent: a second run on the same day changes nothing. Each operation is locked and
    re-read in its own transaction, so a concurrent manual change is never overwritten."""
    today = today or timezone.localdate()
    due = Operation.objects.filter(
        Q(status=Status.PLANNED, start_date__lte=today)
        | Q(status__in=[Status.PLANNED, Status.ACTIVE], end_date__lt=today)
    )
    candidates = list(due.order_by("pk").values_list("pk", flat=True))
    changes = []
    for pk in candidates:
        with transaction.atomic():
            operation = Operation.objects.select_for_update().filter(pk=pk).first()
            if operation is None or operation.status not in (Status.PLANNED, Status.ACTIVE):
                continue
            status = status_on(
                start_date=operation.start_date, end_date=operation.end_date, today=today
            )
            if status == operation.status:
                continue
            previous = operation.status
            _change(operation=operation, status=status, actor=None, automatic=True)
            changes.append(StatusChange(slug=operation.slug, previous=previous, status=status))
    return changes
