"""Delivered-at marks, batched per ASGI process.

Each websocket that pushes a message records (recipient, message) here; one task per event
loop writes them every half second, in one UPDATE. A broadcast to a thousand open
sockets costs one query per process, not a thousand.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from channels.db import database_sync_to_async

from aircop.loop_local import loop_local

from . import services

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 0.5


class DeliveredMarks:
    def __init__(self) -> None:
        self.pending: dict[int, set[int]] = defaultdict(set)
        self.task: asyncio.Task | None = None

    def add(self, *, user_id: int, message_id: int) -> None:
        self.pending[message_id].add(user_id)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = dict(self.pending), defaultdict(set)
        try:
            await database_sync_to_async(services.deliveries_mark_delivered_bulk)(
                recipients_by_message=pending
            )
        except Exception:  # a lost mark must never break a socket; it is only bookkeeping
            logger.exception("could not record %d delivered marks", len(pending))


# The batcher of the running event loop (one per ASGI process; one per test loop).
marks = loop_local(DeliveredMarks)
