"""The Redis channel layer of the ASGI processes: channels_redis's RedisChannelLayer, with one
reader per process that takes its messages off Redis in batches.

Every websocket of a process receives through one Redis key of that process
(``specific.<process>!``). The stock layer makes each socket's ``receive()`` compete for a lock;
the winner takes one message off that key in four sequential round trips (a clean-up script,
BZPOPMIN, a backup copy, the copy's removal) and hands it out, and every waiting socket builds
two tasks and an ``asyncio.wait`` per message. A broadcast reaching 500 sockets of a busy process
queued behind thousands of round trips and task switches (docs/performance.md).

Here one task per process and event loop (the reader) takes the process's messages: the first
with a blocking BZPOPMIN, those waiting behind it, up to ``RECEIVE_BATCH``, with a ZPOPMIN sent
in the same round trip. It hands each to the inbox of its channel (its socket), a bounded queue
of the stock layer's capacity, in the order they were sent; ``receive()`` waits on its inbox
only. A channel has an inbox from ``new_channel()`` until its receive is cancelled (its consumer
ended); a message for a channel without one is dropped, as its socket is gone.

When Redis fails, the reader hands the error to every inbox of its process and stops: each
waiting socket fails (and closes, as with the stock layer), its client reconnects and resumes
from the database; the next ``receive()`` starts a new reader.

A group send takes two round trips instead of four: the group's expired members dropped and
its members read in one pipeline, then one script that, for each process key, drops expired
messages and adds the message unless the key is at capacity (the stock layer sends the expiry
clean-up in a MULTI/EXEC transaction of its own, then the script).

What this gives up: the stock layer keeps a backup copy of the message it is taking, so a
receive cancelled mid-read loses nothing. A message taken here is lost if its process dies
before handing it out; so are that process's sockets, whose clients resume from the database,
the source of truth (capacity and expiry can drop events in the stock layer too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from channels_redis.core import BoundedQueue, RedisChannelLayer

logger = logging.getLogger(__name__)


# For each key: drop its expired messages, then add the message unless it is at capacity.
# KEYS: the process keys; ARGV: the messages, then the capacities, then now and the expiry.
GROUP_SEND_SCRIPT = """
local over_capacity = 0
local now = tonumber(ARGV[#ARGV - 1])
local expiry = tonumber(ARGV[#ARGV])
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, now - expiry)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], now, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


@dataclass(frozen=True)
class _ReadFailed:
    error: BaseException


class BatchingRedisChannelLayer(RedisChannelLayer):
    RECEIVE_BATCH = 200

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inboxes: dict[str, BoundedQueue] = {}
        self._readers: dict[str, asyncio.Task] = {}

    async def new_channel(self, prefix="specific"):
        channel = await super().new_channel(prefix)
        self._inbox(channel)
        return channel

    async def receive(self, channel):
        if "!" not in channel:  # a shared channel: any process may take its messages
            return await super().receive(channel)
        inbox = self._inbox(channel)  # (named by new_channel: no need to check the name)
        self._ensure_reader(self.non_local_name(channel))
        try:
            item = await inbox.get()
        except asyncio.CancelledError:
            self._inboxes.pop(channel, None)
            raise
        if isinstance(item, _ReadFailed):
            self._inboxes.pop(channel, None)
            raise item.error
        return item

    async def group_send(self, group, message):
        """The stock group send, in two round trips (see the top of this file)."""
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        async with self.connection(self.consistent_hash(group)).pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
            pipe.zrange(key, 0, -1)
            _removed, members = await pipe.execute()
        channels = [member.decode("utf8") for member in members]
        keys_by_connection, message_by_key, capacity_by_key = self._map_channel_keys_to_connection(
            channels, message
        )
        for index, keys in keys_by_connection.items():
            over_capacity = await self.connection(index).eval(
                GROUP_SEND_SCRIPT,
                len(keys),
                *keys,
                *(message_by_key[k] for k in keys),
                *(capacity_by_key[k] for k in keys),
                time.time(),
                int(self.expiry),
            )
            if over_capacity:
                logger.info(
                    "%s of %s channels over capacity in group %s",
                    over_capacity,
                    len(channels),
                    group,
                )

    async def flush(self):
        """The stock flush, and what was taken off Redis but not handed out yet."""
        for inbox in self._inboxes.values():
            while not inbox.empty():
                inbox.get_nowait()
        await super().flush()

    async def close_pools(self):
        """Stop this loop's readers (they hold connections of its pools), then the stock close."""
        loop = asyncio.get_running_loop()
        mine = [t for t in self._readers.values() if t.get_loop() is loop and not t.done()]
        for reader in mine:
            reader.cancel()
        await asyncio.gather(*mine, return_exceptions=True)
        await super().close_pools()

    def _inbox(self, channel: str) -> BoundedQueue:
        inbox = self._inboxes.get(channel)
        if inbox is None:
            inbox = self._inboxes[channel] = BoundedQueue(self.capacity)
        return inbox

    def _ensure_reader(self, process_channel: str) -> None:
        loop = asyncio.get_running_loop()
        reader = self._readers.get(process_channel)
        if reader is None or reader.done() or reader.get_loop() is not loop:
            self._readers[process_channel] = loop.create_task(self._read(process_channel))

    async def _read(self, process_channel: str) -> None:
        key = self.prefix + process_channel
        connection = self.connection(self.consistent_hash(process_channel))
        while True:
            try:
                async with connection.pipeline(transaction=False) as pipe:
                    pipe.bzpopmin(key, timeout=self.brpop_timeout)
                    pipe.zpopmin(key, self.RECEIVE_BATCH - 1)
                    first, waiting = await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis gone: every socket of the process fails
                logger.warning("channel layer: reading %s failed: %r", process_channel, error)
                for channel, inbox in self._inboxes.items():
                    if channel.startswith(process_channel):
                        inbox.put_nowait(_ReadFailed(error))
                return
            taken = ([first[1]] if first else []) + [content for content, _score in waiting]
            for content in taken:
                self._hand_out(process_channel, content)

    def _hand_out(self, process_channel: str, content: bytes) -> None:
        """Put the message in the inbox of each channel it names (one, or all the channels of
        this process in a group)."""
        try:
            message = self.deserialize(content)
        except Exception:  # sealed under a key this process does not hold
            logger.exception("channel layer: a message to %s could not be opened", process_channel)
            return
        channels = message.pop("__asgi_channel__", process_channel)
        for channel in channels if isinstance(channels, list) else [channels]:
            inbox = self._inboxes.get(channel)
            if inbox is not None:
                inbox.put_nowait(message)
