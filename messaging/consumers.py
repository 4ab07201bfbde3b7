"""The websocket at /ws/: pushes new messages to a signed-in user's open pages.

The database is the source of truth; the socket only notifies. A client that
reconnects sends ``{"type": "resume", "after": <last message id seen>}`` and
gets every delivery above it, oldest first, then ``resume.done``; or it connects
to ``/ws/?after=<id>``, which replays before any live event is pushed, so that
events arrive in order across a reconnection. Event
schemas: docs/architecture.md ("Websocket events").
"""

from __future__ import annotations

import asyncio
from collections import deque
from urllib.parse import parse_qs
from weakref import WeakKeyDictionary

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import delivery_marks, realtime, selectors

CLOSE_UNAUTHENTICATED = 4401
RECENT_IDS = 2000
# Group joins and leaves in flight at once in one process: thousands of sockets closing together
# (a proxy restart) would otherwise ask the Redis pool for more connections than it holds
# (max_connections), and a failed leave keeps a dead channel in its group for a day.
LAYER_CALLS_PER_PROCESS = 200
_layer_gates: WeakKeyDictionary = WeakKeyDictionary()


def _layer_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _layer_gates.get(loop)
    if gate is None:
        gate = _layer_gates[loop] = asyncio.Semaphore(LAYER_CALLS_PER_PROCESS)
    return gate


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.operations = set()
        self.group = realtime.user_group(user.pk)
        # Ids pushed on this connection: a message is never pushed twice, whether it
        # arrives live, by replay, or both while a resume is running.
        self.pushed: deque[int] = deque(maxlen=RECENT_IDS)
        self.pushed_set: set[int] = set()
        await self._join(self.group)
        await self._refresh_operations()
        await self.accept()
        await self.send_json(
            {"type": "hello", "user": user.username, "operations": sorted(self.operations)}
        )
        # Replayed here, before this consumer handles its first live event (they wait in the
        # channel layer meanwhile): the replay comes first, then what is new, in order.
        after = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after")
        if after:
            await self._resume_from(after[-1])

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self._leave(self.group)
            for slug in self.operations:
                await self._leave(realtime.operation_group(slug))

    async def _join(self, group: str) -> None:
        async with _layer_gate():
            await self.channel_layer.group_add(group, self.channel_name)

    async def _leave(self, group: str) -> None:
        async with _layer_gate():
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _refresh_operations(self) -> None:
        """The user's operations from the database, and this socket in their groups."""
        current = set(await database_sync_to_async(selectors.operation_slugs_of)(user=self.user))
        for slug in current - self.operations:
            await self._join(realtime.operation_group(slug))
        for slug in self.operations - current:
            await self._leave(realtime.operation_group(slug))
        self.operations = current

    def _addressed(self, event: dict) -> dict | None:
        """The event without its ``recipients``, or None when it names others only (an event
        sent to an operation's group reaches every member's socket)."""
        if "recipients" not in event:
            return event
        if self.user.pk not in event["recipients"]:
            return None
        return {key: value for key, value in event.items() if key != "recipients"}

    # --- from the client ---------------------------------------------------------
    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "resume":
            await self._resume_from(content.get("after", 0))
        elif kind == "ping":
            await self.send_json({"type": "pong"})
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
        batch = settings.AIRCOP_RESUME_BATCH
        replayed = 0
        last = after
        while True:
            deliveries = await database_sync_to_async(selectors.deliveries_after)(
                user=self.user, after=last, limit=batch
            )
            for delivery in deliveries:
                message = delivery.message
                if await self._push(realtime.message_new_event(message), replay=True):
                    replayed += 1
                last = message.id
            if len(deliveries) < batch:
                break
        counts = await database_sync_to_async(selectors.unread_counts)(user=self.user)
        await self.send_json(
            {"type": "resume.done", "last_id": last, "replayed": replayed, "unread": counts}
        )

    # --- from the channel layer -----------------------------------------------------
    async def message_new(self, event):
        event = self._addressed(event)
        if event is None:
            return
        operation = event["operation"]
        if operation not in self.operations:
            # Joined since connect? Check once against the database before dropping.
            await self._refresh_operations()
            if operation not in self.operations:
                return
        await self._push(event, replay=False)

    async def delivery_read(self, event):
        event = self._addressed(event)
        if event is not None and event["operation"] in self.operations:
            await self.send_json(event)

    async def delivery_acknowledged(self, event):
        event = self._addressed(event)
        if event is not None and event["operation"] in self.operations:
            await self.send_json(event)

    # --- helpers ----------------------------------------------------------------------
    async def _push(self, event: dict, *, replay: bool) -> bool:
        message_id = event["message"]["id"]
        if message_id in self.pushed_set:
            return False
        if len(self.pushed) == self.pushed.maxlen:
            self.pushed_set.discard(self.pushed[0])
        self.pushed.append(message_id)
        self.pushed_set.add(message_id)
        await self.send_json({**event, "replay": replay})
        delivery_marks.marks().add(user_id=self.user.pk, message_id=message_id)
        return True
