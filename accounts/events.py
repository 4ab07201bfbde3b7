"""Websocket events about a user's access, sent after commit to the user's open sockets.

The consumer (``messaging.consumers.InboxConsumer``) acts on them at once: it drops the
operation and closes (``operation.revoked``), forwards a new role (``membership.changed``), or
closes for good (``user.deactivated``). Schemas: docs/architecture.md ("Websocket events")."""

from __future__ import annotations

from collections.abc import Iterable

from messaging.realtime import send_event_on_commit


def operation_revoked_on_commit(*, user_ids: Iterable[int], slug: str) -> None:
    """These users lost access to the operation ``slug`` (removed, left, or it was archived)."""
    send_event_on_commit(list(user_ids), {"type": "operation.revoked", "operation": slug})


def membership_changed_on_commit(*, user_id: int, slug: str, role: str) -> None:
    send_event_on_commit([user_id], {"type": "membership.changed", "operation": slug, "role": role})


def user_deactivated_on_commit(*, user_id: int) -> None:
    send_event_on_commit([user_id], {"type": "user.deactivated"})
