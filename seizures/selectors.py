"""Reads of the seizure register, always scoped to the acting user."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Membership, OperationStatus, User

from .models import Seizure, SeizurePhoto


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


def photos_of(*, seizure: Seizure, removed: bool = False) -> list[SeizurePhoto]:
    """The photos of a seizure already obtained through ``seizure_for`` (``removed``: with
    those removed, which the history names)."""
    photos = SeizurePhoto.objects.filter(seizure=seizure).order_by("created_at", "id")
    if not removed:
        photos = photos.filter(removed_at__isnull=True)
    return list(photos)


def photo_for(*, user: User, seizure_id: int, uid) -> SeizurePhoto:
    """A photo (not removed) of a seizure the user may see (``seizure_for``), or 404."""
    seizure = seizure_for(user=user, seizure_id=seizure_id)
    photo = SeizurePhoto.objects.filter(seizure=seizure, uid=uid, removed_at__isnull=True).first()
    if photo is None:
        raise Http404
    photo.seizure = seizure
    return photo
