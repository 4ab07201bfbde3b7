"""Resume after reconnect on the real stack: nothing lost, nothing twice, oldest first."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.conf import settings

from messaging.routing import Targets
from messaging.services import message_send
from tests.integration.clients import (
    connect_ready,
    drain,
    post_message,
    receive,
    websocket,
)

pytestmark = pytest.mark.integration

MISSED = 7


def test_reconnecting_client_gets_every_missed_message_once_in_order(servers, team):
    server_a, server_b = servers
    officer = team.officers[0]
    ocu_token = team.token(team.ocu)

    async def send(server, subject):
        response = await post_message(
            server, token=ocu_token, slug=team.slug, subject=subject, to={"officers": True}
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def scenario():
        # given a client on A that has seen one message live
        async with websocket(server_a, token=team.token(officer)) as ws:
            await connect_ready(ws)
            seen = await send(server_a, "Seen live")
            live = await receive(ws)
            assert (live["message"]["id"], live["replay"]) == (seen, False)
        # when it is disconnected while messages are sent through both servers
        missed = [await send((server_a, server_b)[n % 2], f"Missed {n}") for n in range(MISSED)]
        # and it reconnects (to the other server) and resumes after the last id it saw
        async with websocket(server_b, token=team.token(officer)) as ws:
            replay = await connect_ready(ws, after=seen)
            after_resume = await drain(ws)
        return seen, missed, replay, after_resume

    seen, missed, replay, after_resume = asyncio.run(scenario())

    # then it gets every missed message exactly once, oldest first, marked as replay
    *events, done = replay
    assert [e["type"] for e in events] == ["message.new"] * MISSED
    assert [e["message"]["id"] for e in events] == missed
    assert [e["message"]["subject"] for e in events] == [f"Missed {n}" for n in range(MISSED)]
    assert all(e["replay"] is True and e["operation"] == team.slug for e in events)
    assert done == {
        "type": "resume.done",
        "last_id": missed[-1],
        "replayed": MISSED,
        "unread": {team.slug: MISSED + 1},
    }
    assert seen < missed[0]
    # and nothing more (no duplicate) is queued behind the resume
    assert after_resume == []


def test_resume_spanning_several_batches_replays_each_message_once(servers, team):
    # given more missed messages than one resume batch holds (sent in-process, committed)
    officer = team.officers[0]
    count = settings.AIRCOP_RESUME_BATCH + 3
    ids = [
        message_send(
            sender=team.ocu.user,
            operation=team.operation,
            subject=f"Batch {n}",
            body="Body.",
            targets=Targets(users=(officer.user.username,)),
        ).id
        for n in range(count)
    ]

    async def scenario():
        async with websocket(servers[0], token=team.token(officer)) as ws:
            replay = await connect_ready(ws, after=0)
            return replay, await drain(ws)

    # when the client resumes from the start
    replay, after_resume = asyncio.run(scenario())

    # then every message comes once, in order, then resume.done, then nothing
    *events, done = replay
    assert [e["message"]["id"] for e in events] == ids
    assert done["type"] == "resume.done"
    assert (done["last_id"], done["replayed"]) == (ids[-1], count)
    assert after_resume == []


def test_message_both_pushed_live_and_due_for_replay_arrives_once(servers, team):
    officer = team.officers[0]
    server_a, server_b = servers
    ocu_token = team.token(team.ocu)

    async def send(server, subject):
        response = await post_message(
            server, token=ocu_token, slug=team.slug, subject=subject, to={"officers": True}
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def scenario():
        # given messages missed while offline
        missed = [await send(server_a, f"Missed {n}") for n in range(3)]
        async with websocket(server_b, token=team.token(officer)) as ws:
            hello = await receive(ws)
            assert hello["type"] == "hello"
            # and one committed after the socket joined its group but before it resumes:
            # it is pushed live *and* it is above the resume point
            both = await send(server_a, "Live and replayed")
            # when the client resumes from before all of them
            await ws.send(json.dumps({"type": "resume", "after": 0}))
            events = []
            while not (
                any(e["type"] == "resume.done" for e in events)
                and both in [e["message"]["id"] for e in events if e["type"] == "message.new"]
            ):
                events.append(await receive(ws))
            # a later message is a barrier: a duplicate would be queued before it
            last = await send(server_b, "Last")
            while not events or events[-1].get("message", {}).get("id") != last:
                events.append(await receive(ws))
        return missed, both, last, events

    missed, both, last, events = asyncio.run(scenario())

    # then each message reaches the socket exactly once
    ids = [e["message"]["id"] for e in events if e["type"] == "message.new"]
    assert sorted(ids) == [*missed, both, last]
    assert len(ids) == len(set(ids))
    # and the replayed ones come oldest first
    replayed = [e["message"]["id"] for e in events if e["type"] == "message.new" and e["replay"]]
    assert replayed == sorted(replayed)
    assert set(missed) <= set(replayed)
