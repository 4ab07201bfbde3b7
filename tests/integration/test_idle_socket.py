"""A websocket that stays idle longer than the channel layer's blocking read keeps working.

channels_redis waits for events with ``BZPOPMIN`` for ``brpop_timeout`` seconds at a time;
a Redis client whose socket read timeout is not longer than that (redis-py 8 defaults to
5 s, as long as ``brpop_timeout``) makes the wait fail, which tears the consumer down.
"""

from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer

from tests.integration.clients import connect_ready, drain, post_message, receive, websocket

pytestmark = pytest.mark.integration

# Enough idle time for several blocking reads of the channel layer to time out and restart.
IDLE_SECONDS = 3 * RedisChannelLayer.brpop_timeout + 1


def test_idle_socket_still_gets_events(servers, team):
    server_a, server_b = servers
    officer = team.officers[0]

    async def scenario():
        async with websocket(server_b, token=team.token(officer)) as ws:
            await connect_ready(ws)
            # given a socket with nothing to hear for a while
            await asyncio.sleep(IDLE_SECONDS)
            # then it still answers and still receives
            assert await drain(ws) == []
            response = await post_message(
                server_a,
                token=team.token(team.ocu),
                slug=team.slug,
                subject="After a pause",
                to={"officers": True},
            )
            assert response.status_code == 201, response.text
            return response.json()["id"], await receive(ws)

    sent_id, event = asyncio.run(scenario())

    assert (event["type"], event["message"]["id"]) == ("message.new", sent_id)
