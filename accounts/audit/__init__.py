"""Audit rows: called by services inside their transaction, never by views.

Each event is the next link of a hash chain (``accounts.audit.chain``): it carries its sequence
number, the hash of the event before it and its own hash. Appends are serialised: on PostgreSQL
by a transaction-scoped advisory lock, held until the caller's transaction ends (so call
``audit_record`` last in a service, after the rows it locks, or lock them before sending
``chain_lock_sql`` when the service takes the lock early); on SQLite by the write lock every
transaction takes at BEGIN (``transaction_mode: IMMEDIATE``). The unique sequence number stops
any race that slipped through.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import AuditEvent, Operation, User
from .chain import CHAIN_LOCK_KEY, GENESIS_HASH, event_hash, normalised_data


class AuditAction(models.TextChoices):
    """The actions the trail records (the filter of the audit page offers these)."""

    LOGGED_IN = "user.logged_in", _("Logged in")
    LOGIN_FAILED = "user.login_failed", _("Failed log-in")
    LOGGED_OUT = "user.logged_out", _("Logged out")
    USER_BLOCKED = "user.blocked", _("User blocked")
    USER_UNBLOCKED = "user.unblocked", _("User unblocked")
    USER_DEACTIVATED = "user.deactivated", _("User deactivated")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    OPERATION_STATUS_CHANGED = "operation.status_changed", _("Operation status changed")
    MEMBERSHIP_ADDED = "membership.added", _("Member added")
    MEMBERSHIP_CHANGED = "membership.changed", _("Member's role changed")
    MEMBERSHIP_REMOVED = "membership.removed", _("Member removed")
    MEMBERSHIP_LEFT = "membership.left", _("Member left")
    MESSAGE_SENT = "message.sent", _("Message sent")
    MESSAGE_READ = "message.read", _("Message read")
    MESSAGE_FORWARDED = "message.forwarded", _("Message forwarded")
    ALERT_ACKNOWLEDGED = "alert.acknowledged", _("Alert acknowledged")
    ATTACHMENT_DOWNLOADED = "attachment.downloaded", _("Attachment downloaded")
    SEIZURE_RECORDED = "seizure.recorded", _("Seizure recorded")
    SEIZURE_CORRECTED = "seizure.corrected", _("Seizure corrected")
    SEIZURE_IMPORTED = "seizure.imported", _("Seizures imported")
    RESULTS_EXPORTED = "results.exported", _("Results exported")
    REGISTER_EXPORTED = "register.exported", _("Register exported")
    STATISTICS_EXPORTED = "statistics.exported", _("Statistics exported")
    AUDIT_EXPORTED = "audit.exported", _("Audit trail exported")


def chain_lock_sql() -> str:
    """The statement that takes the chain's lock on PostgreSQL, held until the transaction
    ends. A service whose rows must be numbered in the order their transactions commit sends
    it before inserting them, with its own statements in one round trip: every audited
    transaction holds this lock to its end, so ids drawn after it rise in commit order. (On
    SQLite the transaction has held the database's write lock since BEGIN.)"""
    return f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})"


def _lock_chain_and_read_head() -> tuple[int, str] | None:
    """Take the chain's lock, then read its last event (sequence, hash), or None when empty.
    On PostgreSQL both statements go in one round trip; the SELECT, a statement of its own,
    reads with a snapshot taken after the lock was granted, so it sees the event appended by
    the transaction that held the lock before."""
    head = f"SELECT sequence, hash FROM {AuditEvent._meta.db_table} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{chain_lock_sql()}; {head}")
            cursor.nextset()  # past the lock's result, to the head's
        else:
            cursor.execute(head)
        return cursor.fetchone()


def audit_record(
    *,
    actor: User | None,
    action: str,
    operation: Operation | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the audit trail, in the caller's transaction."""
    if actor is not None and not actor.is_authenticated:  # AnonymousUser
        actor = None
    event = AuditEvent(
        actor=actor,
        operation=operation,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        data=normalised_data(data or {}),
    )
    # No savepoint: the event belongs to the caller's transaction itself (and if it fails,
    # so does the caller's transaction).
    with transaction.atomic(savepoint=False):
        head = _lock_chain_and_read_head()
        event.sequence, event.prev_hash = head if head else (0, GENESIS_HASH)
        event.sequence += 1
        event.created_at = timezone.now()
        event.hash = event_hash(**event.chain_fields())
        event.save()
    return event
