"""Reads for operation administration: who may administer what, members, invitations, users.

Administrators (``is_staff``) administer every operation, archived ones included; an OCU lead
(an active OCU member) administers the members of that operation while it is not archived.
Anyone else gets 404, never a hint that the operation exists."""

from __future__ import annotations

import hashlib

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from .models import Invitation, Membership, Operation, OperationStatus, Role, User


def administered_operations(*, user: User) -> QuerySet[Operation]:
    """The operations ``user`` administers, with their number of active members."""
    if not user.is_authenticated or not user.is_active:
        return Operation.objects.none()
    operations = Operation.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__active=True))
    ).order_by("-start_date", "name")
    if user.is_staff:
        return operations
    led = Membership.objects.filter(user=user, active=True, role=Role.OCU).values("operation_id")
    return operations.filter(pk__in=led).exclude(status=OperationStatus.ARCHIVED)


def may_administer(*, user: User) -> bool:
    """Whether ``user`` administers at least one operation (the navigation link)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or administered_operations(user=user).exists()


def operation_to_administer(*, user: User, slug: str) -> Operation:
    """The operation ``slug`` if ``user`` administers it; 404 for anyone else."""
    operation = administered_operations(user=user).filter(slug=slug).first()
    if operation is None:
        raise Http404
    return operation


def may_administer_operation(*, user: User, operation: Operation) -> bool:
    return administered_operations(user=user).filter(pk=operation.pk).exists()


def members_of(*, operation: Operation) -> QuerySet[Membership]:
    """The operation's active members, OCUs first, then national contacts, then officers."""
    order = {Role.OCU: 0, Role.NATIONAL_CONTACT: 1, Role.OFFICER: 2}
    return (
        Membership.objects.filter(operation=operation, active=True)
        .select_related("user")
        .annotate(
            role_order=Case(
                *(When(role=role, then=Value(rank)) for role, rank in order.items()),
                output_field=IntegerField(),
            )
        )
        .order_by("role_order", "user__country", "user__username")
    )


def member_of(*, operation: Operation, username: str) -> Membership:
    """The active membership of ``username`` in ``operation``; 404 otherwise."""
    membership = members_of(operation=operation).filter(user__username=username).first()
    if membership is None:
        raise Http404
    return membership


def member_by_id(*, operation: Operation, membership_id: int) -> Membership:
    membership = members_of(operation=operation).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


def pending_invitations(*, operation: Operation) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        operation=operation, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def invitation_for_secret(*, secret: str) -> Invitation | None:
    """The pending invitation whose link carries ``secret``, or None (unknown, used, expired)."""
    if not secret:
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return (
        Invitation.objects.select_related("operation")
        .filter(key_hash=digest, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def user_by_identifier(identifier: str) -> User | None:
    """An active user by username, or by e-mail address when it contains “@” (unique only)."""
    identifier = identifier.strip()
    if not identifier:
        return None
    if "@" in identifier:
        users = list(User.objects.filter(email__iexact=identifier, is_active=True)[:2])
        return users[0] if len(users) == 1 else None
    return User.objects.filter(username=identifier, is_active=True).first()


def users_to_administer(*, user: User, query: str = "") -> QuerySet[User]:
    """Every account, for administrators only; filtered by username, name or e-mail."""
    if not user.is_authenticated or not user.is_staff:
        return User.objects.none()
    users = User.objects.order_by("username")
    query = query.strip()
    if query:
        users = users.filter(
            Q(username__icontains=query) | Q(full_name__icontains=query) | Q(email__icontains=query)
        )
    return users


def user_to_administer(*, user: User, username: str) -> User:
    target = users_to_administer(user=user).filter(username=username).first()
    if target is None:
        raise Http404
    return target
