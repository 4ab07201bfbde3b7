"""The channel layer of the ASGI processes on a real Redis: a process's messages, taken in
batches by one reader, reach each of its channels once and in order (aircop/channel_layer.py)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis
from redis.asyncio.client import Pipeline

from aircop.channel_layer import BatchingRedisChannelLayer

pytestmark = pytest.mark.integration


PREFIX = f"aircop-it-layer-{uuid.uuid4().hex[:8]}"


def layer() -> BatchingRedisChannelLayer:
    return BatchingRedisChannelLayer(
        hosts=[{"address": os.environ["REDIS_URL"], "socket_timeout": 30}],
        prefix=PREFIX,
        capacity=1000,
    )


def test_a_processs_channels_get_every_message_once_in_order_in_few_round_trips(monkeypatch):
    async def scenario():
        sender, receiver = layer(), layer()  # two processes
        channels = [await receiver.new_channel() for _ in range(3)]
        round_trips = []
        stock = Pipeline.execute

        async def counted(self, *args, **kwargs):
            round_trips.append(1)
            return await stock(self, *args, **kwargs)

        try:
            # given 300 messages waiting for three sockets of the receiving process, interleaved
            for n in range(300):
                await sender.send(channels[n % 3], {"type": "message.new", "n": n})
            monkeypatch.setattr(Pipeline, "execute", counted)

            # when its sockets receive them, each concurrently
            async def take(channel):
                return [(await receiver.receive(channel))["n"] for _ in range(100)]

            received = await asyncio.wait_for(
                asyncio.gather(*(take(channel) for channel in channels)), timeout=30
            )
        finally:
            monkeypatch.undo()
            await sender.flush()
            await sender.close_pools()
            await receiver.close_pools()

        # then each got its own, once, in the order sent
        assert received == [list(range(i, 300, 3)) for i in range(3)]
        # and the messages came in batches, not a round trip per message
        assert len(round_trips) <= 5

    asyncio.run(scenario())


def test_a_socket_that_ends_is_forgotten_and_the_others_still_receive():
    async def scenario():
        sender, receiver = layer(), layer()
        gone, staying = await receiver.new_channel(), await receiver.new_channel()
        try:
            # given a socket whose consumer ended while waiting (its receive cancelled)
            waiting = asyncio.ensure_future(receiver.receive(gone))
            await asyncio.sleep(0.2)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            # when a group of both is sent a message
            await receiver.group_add("operation.ended", gone)
            await receiver.group_add("operation.ended", staying)
            await sender.group_send("operation.ended", {"type": "message.new", "n": 1})
            # then the other socket gets it, and nothing is kept for the one gone
            received = await asyncio.wait_for(receiver.receive(staying), timeout=10)
            return received, gone in receiver._inboxes
        finally:
            await sender.flush()
            await sender.close_pools()
            await receiver.close_pools()

    assert asyncio.run(scenario()) == ({"type": "message.new", "n": 1}, False)


def test_when_redis_fails_every_waiting_socket_of_the_process_fails(monkeypatch):
    async def scenario():
        receiver = layer()
        channels = [await receiver.new_channel() for _ in range(3)]

        async def redis_gone(self, *args, **kwargs):
            raise redis.exceptions.ConnectionError("Redis went away")

        monkeypatch.setattr(Pipeline, "execute", redis_gone)
        try:
            # when the process's sockets wait for messages and Redis fails
            results = await asyncio.wait_for(
                asyncio.gather(
                    *(receiver.receive(channel) for channel in channels), return_exceptions=True
                ),
                timeout=10,
            )
        finally:
            monkeypatch.undo()
            await receiver.close_pools()
        # then each receive fails (its consumer closes the socket; its client resumes)
        return [type(result).__name__ for result in results]

    assert asyncio.run(scenario()) == ["ConnectionError"] * 3


def test_a_flush_forgets_what_was_taken_but_not_handed_out():
    async def scenario():
        sender, receiver = layer(), layer()
        channel = await receiver.new_channel()
        try:
            # given messages taken off Redis in one batch, only the first handed out
            for n in range(5):
                await sender.send(channel, {"type": "message.new", "n": n})
            assert (await receiver.receive(channel))["n"] == 0
            # when the layer is flushed, then a new message is the next one received
            await receiver.flush()
            await sender.send(channel, {"type": "message.new", "n": 99})
            return (await asyncio.wait_for(receiver.receive(channel), timeout=10))["n"]
        finally:
            await sender.flush()
            await sender.close_pools()
            await receiver.close_pools()

    assert asyncio.run(scenario()) == 99


def test_events_are_sealed_in_redis_and_opened_by_the_receiving_process():
    # given the project's channel layer (the settings every ASGI process uses)
    async def scenario():
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("operation.sealed", channel)
        event = {"type": "message.new", "message": {"subject": "Control seat 12A, ET 908"}}
        try:
            # when an event is sent to a group
            await layer.group_send("operation.sealed", event)
            # then Redis holds no byte of it in clear
            client = redis.Redis.from_url(os.environ["REDIS_URL"])
            stored = b"".join(
                b"".join(member for member, _score in client.zrange(key, 0, -1, withscores=True))
                for key in client.scan_iter(match=f"{layer.prefix}*")
                if client.type(key) == b"zset" and b"group" not in key
            )
            client.close()
            # and the receiving socket gets it whole
            received = await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            await layer.group_discard("operation.sealed", channel)
            await layer.close_pools()
        return stored, received

    stored, received = asyncio.run(scenario())
    assert stored and b"Control seat" not in stored and b"ET 908" not in stored
    assert received == {"type": "message.new", "message": {"subject": "Control seat 12A, ET 908"}}


def test_a_group_send_reaches_each_process_once_and_stops_at_its_capacity():
    async def scenario():
        # (capacity is the sending process's setting: every process has the same)
        sender = BatchingRedisChannelLayer(
            hosts=[{"address": os.environ["REDIS_URL"], "socket_timeout": 30}],
            prefix=PREFIX,
            capacity=2,
        )
        first, second = layer(), layer()
        one, other = await first.new_channel(), await second.new_channel()
        try:
            # given a group with a socket on each of two processes
            await sender.group_add("operation.capacity", one)
            await sender.group_add("operation.capacity", other)
            # when three messages are sent to the group before either process reads, each
            # process's key holding two at most
            for n in range(3):
                await sender.group_send("operation.capacity", {"type": "message.new", "n": n})
            # then each socket gets the first two, once, in order, and the third is dropped
            got = [
                [(await first.receive(one))["n"] for _ in range(2)],
                [(await second.receive(other))["n"] for _ in range(2)],
            ]
            await asyncio.sleep(0.5)
            left = first._inboxes[one].qsize() + second._inboxes[other].qsize()
            return got, left
        finally:
            await sender.flush()
            for each in (sender, first, second):
                await each.close_pools()

    assert asyncio.run(scenario()) == ([[0, 1], [0, 1]], 0)
