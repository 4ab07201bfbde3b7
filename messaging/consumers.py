"""The websocket at /ws/: pushes new messages to a signed-in user's open pages.

The database is the source of truth; the socket only notifies. A client that
reconnects sends ``{"type": "resume", "after": <id of the last message received>}``
and gets every delivery after that message's, in the order they were delivered,
then ``resume.done``; or it connects to ``/ws/?after=<id>``, which replays before
any live event is pushed, so that events arrive in order across a reconnection.
Live events are pushed in delivery order too (docs/architecture.md, "Ordering").
Event schemas: docs/architecture.md ("Websocket events").
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_left
from collections import deque
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.auth import websocket_session_watch
from accounts.presence import seen_is_stale, user_seen
from aircop.loop_local import loop_local

from . import delivery_marks, membership_reads, realtime, selectors

logger = logging.getLogger(__name__)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCESS_CHANGED = 4403  # removed from an operation: the client reconnects afresh
RECENT_IDS = 2000
# The operations a connection may hear of are read again from the database when older than
# this, before an event is delivered: a removal takes effect even if its event was lost.
MEMBERSHIP_RECHECK_SECONDS = 1.0
# Group joins and leaves in flight at once in one process: thousands of sockets closing together
# (a proxy restart) would otherwise ask the Redis pool for more connections than it holds
# (max_connections), and a failed leave keeps a dead channel in its group for a day.
LAYER_CALLS_PER_PROCESS = 200
_layer_gate = loop_local(lambda: asyncio.Semaphore(LAYER_CALLS_PER_PROCESS))
# What an event carries for routing only (realtime.send_event_on_commit): never sent on.
ROUTING_FIELDS = frozenset({"recipients", "deliveries", "delivery", "previous"})


class LiveTexts:
    """The text of each recent live ``message.new`` event, encoded once per process: the event
    is the same for every recipient once its ``recipients`` are stripped, and a broadcast
    reaches hundreds of sockets of one process."""

    SIZE = 256

    def __init__(self) -> None:
        self.texts: dict[int, str] = {}

    def get(self, message_id: int) -> str | None:
        return self.texts.get(message_id)

    def put(self, message_id: int, text: str) -> str:
        if len(self.texts) >= self.SIZE:
            del self.texts[next(iter(self.texts))]  # the oldest
        self.texts[message_id] = text
        return text


_live_texts = loop_local(LiveTexts)


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def dispatch(self, message):
        """Channels' own, without the ``close_old_connections`` it runs before every handler:
        that is a hop to the process's one database thread for each event of each socket,
        which queued a broadcast's events behind every query of the process. This consumer
        touches the database only through ``database_sync_to_async``, which closes stale
        connections around each call itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        # Presence (accounts.presence): an open socket keeps the user "seen" (the client pings
        # every 25 s; the write is throttled), its close is the last sighting.
        await database_sync_to_async(user_seen)(user=user)
        self.operations = set()
        self.operations_read_at = 0.0
        self.group = realtime.user_group(user.pk)
        # Ids pushed on this connection: a message is never pushed twice, whether it
        # arrives live, by replay, or both while a resume is running.
        self.pushed: deque[int] = deque(maxlen=RECENT_IDS)
        self.pushed_set: set[int] = set()
        # A delivery id: every delivery of the user up to it has been pushed on this connection,
        # or came before its ``after``; None until known (opened without ``after``, no event
        # yet). An event whose ``previous`` is above it overtook an earlier one.
        self.caught_up_to: int | None = None
        await self._join(self.group)
        await self._refresh_operations()
        await self.accept()
        # A socket opened with the session cookie closes when the session ends.
        self.session_watch = asyncio.create_task(
            websocket_session_watch(self.scope, lambda: self.close(code=CLOSE_UNAUTHENTICATED))
        )
        await self.send_json(
            {"type": "hello", "user": user.username, "operations": sorted(self.operations)}
        )
        # Replayed here, before this consumer handles its first live event (they wait in the
        # channel layer meanwhile): the replay comes first, then what is new, in order.
        after = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after")
        if after:
            await self._resume_from(after[-1])

    async def disconnect(self, code):
        if hasattr(self, "session_watch"):
            self.session_watch.cancel()
        if hasattr(self, "group"):
            await self._leave(self.group)
            for slug in self.operations:
                await self._leave(realtime.operation_group(slug))
            await database_sync_to_async(user_seen)(user=self.user, force=True)

    async def _join(self, group: str) -> None:
        async with _layer_gate():
            await self.channel_layer.group_add(group, self.channel_name)

    async def _leave(self, group: str) -> None:
        async with _layer_gate():
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _refresh_operations(self) -> None:
        """The user's operations from the database, and this socket in their groups."""
        current = await membership_reads.reads().operations_of(self.user.pk)
        for slug in current - self.operations:
            await self._join(realtime.operation_group(slug))
        for slug in self.operations - current:
            await self._leave(realtime.operation_group(slug))
        self.operations = current
        self.operations_read_at = time.monotonic()

    async def _may_hear_of(self, operation: str) -> bool:
        """Whether this user is (still) an active member of ``operation``: the cached set,
        read again when older than MEMBERSHIP_RECHECK_SECONDS or when the operation is missing
        (joined since), so a removal holds even if its event was lost."""
        stale = time.monotonic() - self.operations_read_at >= MEMBERSHIP_RECHECK_SECONDS
        if stale or operation not in self.operations:
            await self._refresh_operations()
        return operation in self.operations

    def _addressed(self, event: dict) -> tuple[dict, realtime.Position | None] | None:
        """The event as this socket sends it, without the routing fields, and this user's
        position of it (``message.new``; None when the event does not say); None when the
        event names others only (an event sent to an operation's group reaches every member's
        socket). ``recipients`` is in ascending order (``realtime.send_event_on_commit``)."""
        position = None
        if "recipients" in event:
            recipients = event["recipients"]
            at = bisect_left(recipients, self.user.pk)
            if at == len(recipients) or recipients[at] != self.user.pk:
                return None
            if "deliveries" in event:
                position = realtime.Position(event["deliveries"][at], event["previous"][at])
        elif "delivery" in event:
            position = realtime.Position(event["delivery"], event["previous"])
        else:
            return event, None
        return {k: v for k, v in event.items() if k not in ROUTING_FIELDS}, position

    # --- from the client ---------------------------------------------------------
    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "resume":
            await self._resume_from(content.get("after", 0))
        elif kind == "ping":
            await self.send_json({"type": "pong"})
            if seen_is_stale(self.user):
                await database_sync_to_async(user_seen)(user=self.user)
        else:
            await self._error("type", "Unknown event type; expected `resume` or `ping`.")

    async def _resume_from(self, after) -> None:
        if isinstance(after, str) and after.isdigit():
            after = int(after)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self._error("after", "`after` must be a non-negative integer message id.")
            return
        await self._resume(after)

    async def _error(self, field: str, detail: str):
        await self.send_json({"type": "error", "field": field, "detail": detail})

    async def _resume(self, after: int):
        await self._refresh_operations()
        cursor = await database_sync_to_async(selectors.delivery_cursor)(
            user=self.user, message_id=after
        )
        replayed, last = await self._replay(cursor, live=False)
        counts = await database_sync_to_async(selectors.unread_counts)(user=self.user)
        done = {"type": "resume.done", "last_id": last or after, "replayed": replayed}
        await self.send_json({**done, "unread": counts})

    async def _replay(self, cursor: int, *, live: bool) -> tuple[int, int | None]:
        """Push the user's deliveries after ``cursor`` (a delivery id) from the database, in
        order, each message once; return how many were pushed and the last message id read.
        ``live``: they are new to the user (an event overtook an earlier one), not a catch-up
        after an absence."""
        batch = settings.AIRCOP_RESUME_BATCH
        replayed, last = 0, None
        while True:
            deliveries = await database_sync_to_async(selectors.deliveries_after)(
                user=self.user, cursor=cursor, limit=batch
            )
            for delivery in deliveries:
                message = delivery.message
                if await self._push(realtime.message_new_event(message), replay=not live):
                    replayed += 1
                cursor, last = delivery.id, message.id
            if len(deliveries) < batch:
                break
        self.caught_up_to = max(self.caught_up_to or 0, cursor)
        return replayed, last

    # --- from the channel layer -----------------------------------------------------
    async def message_new(self, event):
        addressed = self._addressed(event)
        if addressed is None:
            return
        event, position = addressed
        if not await self._may_hear_of(event["operation"]):
            return
        if position is None:  # from a process of an earlier version
            await self._push(event, replay=False)
            return
        if self.caught_up_to is not None and position.previous > self.caught_up_to:
            # The user's delivery before this one has not reached this socket: its event is
            # late (another process published it) or lost. Both have committed (delivery ids
            # rise in commit order): push them from the database, in order.
            logger.info(
                "delivery %s arrived before delivery %s: pushed from the database",
                position.delivery,
                position.previous,
            )
            await self._replay(self.caught_up_to, live=True)
            return
        await self._push(event, replay=False)
        self.caught_up_to = max(self.caught_up_to or 0, position.delivery)

    async def delivery_read(self, event):
        await self._send_addressed(event)

    async def delivery_acknowledged(self, event):
        await self._send_addressed(event)

    async def _send_addressed(self, event: dict) -> None:
        addressed = self._addressed(event)
        if addressed is not None and await self._may_hear_of(addressed[0]["operation"]):
            await self.send_json(addressed[0])

    # --- access changes (accounts.events) -------------------------------------------------
    async def operation_revoked(self, event):
        """Removed from an operation (or it was archived): tell the client, then close; the
        client reconnects and its new ``hello`` no longer lists the operation."""
        if event["operation"] in self.operations:
            self.operations.discard(event["operation"])
            await self._leave(realtime.operation_group(event["operation"]))
        await self.send_json(event)
        await self.close(code=CLOSE_ACCESS_CHANGED)

    async def membership_changed(self, event):
        if await self._may_hear_of(event["operation"]):
            await self.send_json(event)

    async def user_deactivated(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    # --- helpers ----------------------------------------------------------------------
    async def _push(self, event: dict, *, replay: bool) -> bool:
        message_id = event["message"]["id"]
        if message_id in self.pushed_set:
            return False
        if len(self.pushed) == self.pushed.maxlen:
            self.pushed_set.discard(self.pushed[0])
        self.pushed.append(message_id)
        self.pushed_set.add(message_id)
        if replay:  # read from the database for this socket alone
            await self.send_json({**event, "replay": True})
        else:
            texts = _live_texts()
            text = texts.get(message_id) or texts.put(
                message_id, await self.encode_json({**event, "replay": False})
            )
            await self.send(text_data=text)
        delivery_marks.marks().add(user_id=self.user.pk, message_id=message_id)
        return True
