"""A broadcast to a large operation on the real stack: accepted once, heard by every socket.

Each recipient is one channel-layer group; the fan-out must not need one Redis
connection per recipient at once (redis-py's pools hold 100 by default), and a
failure to notify must never turn a committed send into an error answer.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from accounts.models import Role
from accounts.services import api_token_create
from messaging.models import Message
from tests.factories import OperationFactory, member
from tests.integration.clients import connect_ready, post_message, receive, websocket

pytestmark = pytest.mark.integration

OFFICERS = 250
LISTENING = 25


def test_broadcast_to_hundreds_of_officers_is_accepted_and_heard(servers, transactional_db):
    # given an operation with more officers than a Redis connection pool holds,
    # some of them online on either server
    operation = OperationFactory()
    ocu = member(operation, role=Role.OCU, country="FR")
    officers = [member(operation) for _ in range(OFFICERS)]
    listening = officers[:: OFFICERS // LISTENING][:LISTENING]
    secrets = [api_token_create(user=m.user, name="it")[1] for m in listening]
    ocu_secret = api_token_create(user=ocu.user, name="it")[1]

    async def scenario():
        async with AsyncExitStack() as stack:
            sockets = [
                await stack.enter_async_context(websocket(servers[n % 2], token=secret))
                for n, secret in enumerate(secrets)
            ]
            for ws in sockets:
                await connect_ready(ws)
            # when the OCU broadcasts to all officers
            response = await post_message(
                servers[0],
                token=ocu_secret,
                slug=operation.slug,
                subject="To all",
                to={"officers": True},
            )
            if response.status_code != 201:
                return response, []
            return response, [await receive(ws) for ws in sockets]

    response, events = asyncio.run(scenario())

    # then the send is accepted, stored once, and every online officer hears of it
    assert response.status_code == 201, response.text
    sent = response.json()
    assert len(sent["recipients"]) == OFFICERS
    assert Message.objects.filter(operation=operation).count() == 1
    assert [(e["type"], e["message"]["id"]) for e in events] == [
        ("message.new", sent["id"])
    ] * LISTENING
