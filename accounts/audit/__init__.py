"""Audit rows: called by services inside their transaction, never by views.

Each event is the next link of a hash chain (``accounts.audit.chain``): it carries its sequence
number, the hash of the event before it and its own hash. Appends are serialised: on PostgreSQL
by a transaction-scoped advisory lock, held until the caller's transaction ends (so call
``audit_record`` last in a service, after the rows it locks); on SQLite by the write lock every
transaction takes at BEGIN (``transaction_mode: IMMEDIATE``). The unique sequence number stops
any race that slipped through.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .chain import CHAIN_LOCK_KEY, GENESIS_HASH, event_hash, normalised_data
from ..models import AuditEvent, Operation, User


def _lock_chain() -> None:
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


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
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        event.sequence, event.prev_hash = head if head else (0, GENESIS_HASH)
        event.sequence += 1
        event.created_at = timezone.now()
        event.hash = event_hash(**event.chain_fields())
        event.save()
    return event
