"""Hundreds of websockets opening and closing at once: every one joins, then leaves, its group.

A reconnection storm (a server restart, a network blip) opens and closes sockets by
the hundred; each join and leave is a Redis call of the channel layer, and none may
fail for want of a pooled Redis connection: a failed leave leaves a dead channel in
the user's group for a day (``group_expiry``), a failed join closes the socket.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import redis

from messaging.realtime import user_group
from tests.integration.clients import WAIT, open_socket, receive
from tests.integration.conftest import CHANNEL_PREFIX

pytestmark = pytest.mark.integration

SOCKETS = 300  # well above redis-py's default pool of 100 connections per process


def _group_size(redis_url: str, user_id: int) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return client.zcard(f"{CHANNEL_PREFIX}:group:{user_group(user_id)}")
    finally:
        client.close()


def test_hundreds_of_sockets_open_and_close_at_once(servers, team):
    officer = team.officers[0]
    token = team.token(officer)
    redis_url = os.environ["REDIS_URL"]

    async def one(handshakes: asyncio.Semaphore, close: asyncio.Event, opened: list):
        async with handshakes:
            ws = await open_socket(servers[0], token=token)
            opened.append((await receive(ws))["type"])
        await close.wait()
        await ws.close()  # at the same moment as all the others

    async def scenario():
        # Handshakes a few at a time: one process on a small machine accepts a few
        # hundred per second (each checks a token and the memberships in the database).
        handshakes, close = asyncio.Semaphore(20), asyncio.Event()
        opened: list[str] = []
        tasks = [asyncio.create_task(one(handshakes, close, opened)) for _ in range(SOCKETS)]
        while len(opened) < SOCKETS and not any(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        members_while_open = await asyncio.to_thread(_group_size, redis_url, officer.user_id)
        close.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return opened, members_while_open, [r for r in results if isinstance(r, Exception)]

    # when hundreds of sockets of one user are open, then close at once
    opened, members_while_open, errors = asyncio.run(scenario())

    # then every socket was accepted and joined the user's group
    assert errors == []
    assert opened == ["hello"] * SOCKETS
    assert members_while_open == SOCKETS
    # and every one leaves it (the server handles the closes in its own time)
    deadline = time.monotonic() + WAIT
    while _group_size(redis_url, officer.user_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group_size(redis_url, officer.user_id) == 0
