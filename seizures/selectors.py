"""Reads of the seizure register, always scoped to the acting user."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Membership, OperationStatus, User

from .models import Seizure


def seizures_visible_to(*, user: User) -> QuerySet[Seizure]:
    """The seizures a user may see: those of the operations the user is an active member of,
    and those outside any operation that the user reported. Administrators see all.
    Anyone else sees nothing: a forgotten filter hides, it never reveals."""
    if not user.is_authenticated or not user.is_active:
        return Seizure.objects.none()
    if user.is_staff:
        return Seizure.objects.all()
    # The user's operations are few: resolved first into a list of ids, so that PostgreSQL
    # plans ``operation_id IN (1, 2, ...) OR (operation_id IS NULL AND reported_by_id = ...)``
    # with the indexes of 0006_statistics_indexes instead of a semi-join over the whole table.
    operation_ids = list(
        Membership.objects.filter(user=user, active=True)
        .exclude(operation__status=OperationStatus.ARCHIVED)
        .values_list("operation_id", flat=True)
    )
    return Seizure.objects.filter(
        Q(operation_id__in=operation_ids) | Q(operation__isnull=True, reported_by=user)
    )


def seizure_for(*, user: User, seizure_id: int) -> Seizure:
    seizure = (
        seizures_visible_to(user=user)
        .select_related("operation", "reported_by", "alert", "message")
        .filter(pk=seizure_id)
        .first()
    )
    if seizure is None:
        raise Http404
    return seizure
