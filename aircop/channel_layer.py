"""The Redis channel layer of the ASGI processes: channels_redis's RedisChannelLayer, receiving a
process's messages in batches.

Every websocket of a process receives through one Redis key of that process
(``specific.<process>!``). The stock layer takes one message off it per four sequential round
trips (a clean-up script, BZPOPMIN, a backup copy, the copy's removal), one message at a time, so
a broadcast reaching 500 sockets of a process queued behind 2,000 round trips on a busy event loop
(docs/performance.md). Here the first message is still taken the stock way (blocking, with its
backup copy); the messages already waiting behind it, up to ``RECEIVE_BATCH``, come in one ZPOPMIN
and are handed out from memory, in the same order.

What this gives up: a message taken in a batch is lost if its process dies before handing it out.
So are that process's sockets: their clients reconnect and resume from the database, which is the
source of truth (capacity and expiry can drop events in the stock layer too).
"""

from __future__ import annotations

from collections import defaultdict, deque

from channels_redis.core import RedisChannelLayer


class BatchingRedisChannelLayer(RedisChannelLayer):
    RECEIVE_BATCH = 200

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._taken: dict[str, deque] = defaultdict(deque)

    async def receive_single(self, channel):
        if "!" not in channel:  # a shared channel: any process may take its messages
            return await super().receive_single(channel)
        taken = self._taken[channel]
        if taken:
            return taken.popleft()
        first = await super().receive_single(channel)
        waiting = await self.connection(self.consistent_hash(channel)).zpopmin(
            self.prefix + channel, self.RECEIVE_BATCH - 1
        )
        taken.extend(self._unpacked(channel, content) for content, _score in waiting)
        return first

    async def flush(self):
        """The stock flush, and what was taken off Redis but not handed out yet."""
        self._taken.clear()
        await super().flush()

    def _unpacked(self, channel: str, content: bytes) -> tuple[str, dict]:
        """What the stock ``receive_single`` returns for ``content``: (channel, message)."""
        message = self.deserialize(content)
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message
