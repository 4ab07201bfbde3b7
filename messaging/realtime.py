"""Side effects after commit: websocket events through the channel layer.

Every event leaves through :func:`send_event_on_commit`, so no client hears of
a write that rolled back. Events are JSON objects with a ``type``; the
schemas are documented in ``docs/architecture.md`` ("Websocket events").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from .models import Message

logger = logging.getLogger(__name__)
GROUP_SEND_CONCURRENCY = 20
# From this many recipients, an event goes once to the operation's group, naming its
# recipients, instead of once to each recipient's group (docs/performance.md).
OPERATION_FANOUT_MIN = 10


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's open websockets (all tabs, all devices)."""
    return f"user.{user_id}"


def operation_group(slug: str) -> str:
    """The channel-layer group of every open websocket of an operation's members."""
    return f"operation.{slug}"


def message_summary(message: Message) -> dict:
    """The public shape of a message in events and lists (no body)."""
    sender = message.sender
    return {
        "id": message.id,
        "kind": message.kind,
        "subject": message.subject,
        "sender": {
            "username": sender.username,
            "full_name": sender.get_full_name(),
            "country": str(sender.country or ""),
            "airport": sender.airport,
        },
        "created_at": message.created_at.isoformat(),
        "priority": message.priority,
        "handling_code": message.handling_code,
        "alert_id": message.alert_id,
        "url": reverse(
            "messaging:detail", kwargs={"slug": message.operation.slug, "message_id": message.id}
        ),
    }


def message_new_event(message: Message) -> dict:
    return {
        "type": "message.new",
        "operation": message.operation.slug,
        "message": message_summary(message),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def delivery_event(event_type: str, message: Message, delivery, recipient) -> dict:
    """``delivery.read`` or ``delivery.acknowledged``: one recipient's progress on a message."""
    return {
        "type": event_type,
        "operation": message.operation.slug,
        "message_id": message.id,
        "recipient": recipient.username,
        "read_at": _iso(delivery.read_at),
        "acknowledged_at": _iso(delivery.acknowledged_at),
        "answered_at": _iso(delivery.answered_at),
    }


async def _group_send_all(sends: list[tuple[str, dict]]) -> None:
    """Send each (group, event) with bounded concurrency (the Redis connection pool is
    finite). A failure is logged, never raised: the write has committed, and clients catch up
    by ``resume`` from the database."""
    layer = get_channel_layer()
    if layer is None:
        return
    limit = asyncio.Semaphore(GROUP_SEND_CONCURRENCY)

    async def send(group: str, event: dict) -> None:
        async with limit:
            await layer.group_send(group, event)

    results = await asyncio.gather(*(send(g, e) for g, e in sends), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        logger.error(
            "%s reached %d of %d groups",
            sends[0][1].get("type"),
            len(sends) - len(failures),
            len(sends),
            exc_info=failures[0],
        )


class Position(NamedTuple):
    """Where a message sits in one recipient's stream: their delivery's id, and the id of
    their delivery before it (0 for none). Delivery ids rise in commit order."""

    delivery: int
    previous: int


def send_event_on_commit(
    user_ids: Iterable[int], event: dict, *, positions: Mapping[int, Position] | None = None
) -> None:
    """Send ``event`` to every open websocket of these users once the transaction commits.

    A few recipients: one event per recipient's group. Many recipients of one operation: one
    event to the operation's group with ``recipients`` (user ids, ascending), which each
    consumer checks and removes before anything reaches a socket; a broadcast to 1,000
    officers costs one channel-layer call instead of 1,000.

    ``positions`` (``message.new``): each recipient's ``Position``, so that a socket can tell
    when an event overtook an earlier one (docs/architecture.md, "Ordering"). They travel as
    ``delivery`` and ``previous``, two ids, or with ``recipients`` two lists in its order."""
    user_ids = sorted(set(user_ids))
    operation = event.get("operation")
    if operation and len(user_ids) >= OPERATION_FANOUT_MIN:
        event = {**event, "recipients": user_ids}
        if positions is not None:
            event["deliveries"] = [positions[user_id].delivery for user_id in user_ids]
            event["previous"] = [positions[user_id].previous for user_id in user_ids]
        sends = [(operation_group(operation), event)]
    elif positions is not None:
        sends = [
            (user_group(user_id), {**event, **positions[user_id]._asdict()}) for user_id in user_ids
        ]
    else:
        sends = [(user_group(user_id), event) for user_id in user_ids]
    if sends:
        transaction.on_commit(lambda: async_to_sync(_group_send_all)(sends), robust=True)
