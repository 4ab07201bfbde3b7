"""Members of an operation, managed by its administrators: add, change a role, remove.

A role change or a removal takes effect at once: every later request reads the membership
again (``selectors.membership_for``), and the member's open websockets hear of it after commit
(``accounts.events``). A closed or archived operation takes no new member."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from aircop.exceptions import Conflict, DomainError

from .airports import airport
from .audit import audit_record
from .events import membership_changed_on_commit, operation_revoked_on_commit
from .manage_selectors import may_administer_operation
from .models import Membership, Operation, OperationStatus, Role, User


def check_administers(*, actor: User, operation: Operation) -> None:
    if not may_administer_operation(user=actor, operation=operation):
        raise PermissionDenied


def share_lock_operation(
    operation: Operation, *, member: User
) -> tuple[str | None, Membership | None]:
    """Lock the operation row in share mode, for the rest of the transaction; return its
    current status (None if it no longer exists) and ``member``'s active membership in it
    (None for a non-member), read after the lock. Any number of sends hold the lock at once,
    while a close or a membership change (``lock_open_operation``, FOR UPDATE) waits for them,
    and they for it. The membership is read in a statement of its own, whose snapshot, taken
    once the lock is granted, sees what such a change committed; on PostgreSQL both statements
    go in one round trip (every value in them an integer, hence no parameters). The membership
    carries its id and role, with ``member`` and ``operation`` as its user and operation. On
    SQLite, whose transactions take the database's write lock at BEGIN, there is no lock to
    add."""
    operation_id, user_id = int(operation.pk), int(member.pk)
    status = f"SELECT status FROM {Operation._meta.db_table} WHERE id = {operation_id}"  # noqa: S608
    role = (
        f"SELECT m.id, m.role FROM {Membership._meta.db_table} m"  # noqa: S608
        f" JOIN {User._meta.db_table} u ON u.id = m.user_id"
        f" WHERE m.user_id = {user_id} AND m.operation_id = {operation_id}"
        " AND m.active AND u.is_active ORDER BY m.id LIMIT 1"
    )
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{status} FOR SHARE; {role}")
            status_row = cursor.fetchone()
            cursor.nextset()
        else:
            cursor.execute(status)
            status_row = cursor.fetchone()
            cursor.execute(role)
        role_row = cursor.fetchone()
    membership = None
    if role_row is not None:
        membership = Membership(
            id=role_row[0], role=role_row[1], active=True, user=member, operation=operation
        )
    return (status_row[0] if status_row else None), membership


def lock_open_operation(operation: Operation) -> Operation:
    """Lock the operation row (a concurrent close waits) and refuse a closed or archived one."""
    operation = Operation.objects.select_for_update().get(pk=operation.pk)
    if operation.status in (OperationStatus.CLOSED, OperationStatus.ARCHIVED):
        raise Conflict(
            _("The operation is %(status)s: it takes no new member.")
            % {"status": operation.get_status_display().lower()},
            field="operation",
            code="operation_closed",
        )
    return operation


def check_role(role: str, *, field: str = "role") -> str:
    if role not in Role.values:
        raise DomainError(
            _("Unknown role “%(role)s”: use %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)},
            field=field,
        )
    return role


def join(
    *, actor: User | None, operation: Operation, user: User, role: str, data: dict | None = None
) -> Membership:
    """Make ``user`` an active member (a former member is re-admitted); audited. The caller
    holds the operation's lock and has checked the user is not an active member."""
    membership = (
        Membership.objects.select_for_update().filter(user=user, operation=operation).first()
    )
    if membership is None:
        membership = Membership.objects.create(user=user, operation=operation, role=role)
    else:
        membership.role = role
        membership.active = True
        membership.joined_at = timezone.now()
        membership.left_at = None
        membership.save(update_fields=["role", "active", "joined_at", "left_at"])
    audit_record(
        actor=actor,
        action="membership.added",
        operation=operation,
        target=membership,
        data={"user": user.username, "role": role, **(data or {})},
    )
    # Open sockets of the new member join the operation's group and hear it live at once.
    membership_changed_on_commit(user_id=user.pk, slug=operation.slug, role=role)
    return membership


def already_member(*, operation: Operation, user: User) -> bool:
    return Membership.objects.filter(operation=operation, user=user, active=True).exists()


@transaction.atomic
def membership_add(*, actor: User, operation: Operation, user: User, role: str) -> Membership:
    """Add an existing, active user to the operation with ``role``."""
    check_administers(actor=actor, operation=operation)
    check_role(role)
    operation = lock_open_operation(operation)
    if not user.is_active:
        raise DomainError(_("This account is deactivated."), field="user")
    if already_member(operation=operation, user=user):
        raise Conflict(
            _("%(user)s is already a member of this operation.") % {"user": user.username},
            field="user",
            code="already_member",
        )
    return join(actor=actor, operation=operation, user=user, role=role)


def _locked_active(membership: Membership) -> Membership:
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "operation")
        .filter(pk=membership.pk, active=True)
        .first()
    )
    if locked is None:
        raise DomainError(_("This person is no longer a member."), field="membership")
    return locked


@transaction.atomic
def membership_change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """Give a member another role; it applies to the next request and the open websockets."""
    check_administers(actor=actor, operation=membership.operation)
    check_role(role)
    membership = _locked_active(membership)
    if membership.role == role:
        return membership
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="membership.changed",
        operation=membership.operation,
        target=membership,
        data={"user": membership.user.username, "from": previous, "to": role},
    )
    membership_changed_on_commit(
        user_id=membership.user_id, slug=membership.operation.slug, role=role
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership) -> Membership:
    """Remove a member: access ends at once (pages, API, attachments, websocket); the messages
    they sent stay in the operation's history."""
    check_administers(actor=actor, operation=membership.operation)
    membership = _locked_active(membership)
    membership.active = False
    membership.left_at = timezone.now()
    membership.save(update_fields=["active", "left_at"])
    audit_record(
        actor=actor,
        action="membership.removed",
        operation=membership.operation,
        target=membership,
        data={"user": membership.user.username, "role": membership.role},
    )
    operation_revoked_on_commit(user_ids=[membership.user_id], slug=membership.operation.slug)
    return membership


def check_posting(*, country: str, airport_code: str) -> tuple[str, str]:
    """A member's country (ISO 3166 alpha-2) and airport (IATA), each optional; the airport
    must be in the country when both are given. Returns them normalised."""
    country = (country or "").strip().upper()
    airport_code = (airport_code or "").strip().upper()
    if country and country not in countries:
        raise DomainError(_("Unknown country code: %(code)s.") % {"code": country}, field="country")
    if airport_code:
        known = airport(airport_code)
        if known is None:
            raise DomainError(
                _("Unknown airport code: %(code)s.") % {"code": airport_code}, field="airport"
            )
        if country and known.country != country:
            raise DomainError(
                _("%(airport)s is not in %(country)s.")
                % {"airport": airport_code, "country": countries.name(country)},
                field="airport",
            )
        country = country or known.country
    return country, airport_code
