"""Two daphne processes share the Redis channel layer: a send through one reaches both."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.clients import connect_ready, post_message, receive, websocket

pytestmark = pytest.mark.integration

TO_OFFICERS = {"officers": True}


def test_message_posted_on_server_a_reaches_a_bearer_client_on_server_b(servers, team):
    server_a, server_b = servers
    officer = team.officers[0]

    async def scenario():
        # given an officer's script connected to B (Bearer token, no Origin)
        async with websocket(server_b, token=team.token(officer)) as ws:
            assert await connect_ready(ws) == [
                {"type": "resume.done", "last_id": 0, "replayed": 0, "unread": {}}
            ]
            # when the OCU sends through A's API
            response = await post_message(
                server_a,
                token=team.token(team.ocu),
                slug=team.slug,
                subject="Across",
                to=TO_OFFICERS,
            )
            return response, await receive(ws)

    response, event = asyncio.run(scenario())

    # then the send is accepted and B pushes the event to the socket
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sorted(sent["recipients"]) == sorted(m.user.username for m in team.officers)
    assert event["type"] == "message.new"
    assert event["operation"] == team.slug
    assert event["replay"] is False
    assert event["message"]["id"] == sent["id"]
    assert event["message"]["subject"] == "Across"
    assert event["message"]["sender"]["username"] == team.ocu.user.username
    assert event["message"]["url"].endswith(f"/{sent['id']}/")


def test_each_socket_on_either_server_gets_each_message_once(servers, team):
    server_a, server_b = servers
    first, second, third = team.officers

    async def scenario():
        async with (
            websocket(server_a, token=team.token(first)) as on_a,
            websocket(server_b, token=team.token(second)) as on_b,
            websocket(server_b, token=team.token(first)) as first_again_on_b,
        ):
            for ws in (on_a, on_b, first_again_on_b):
                await connect_ready(ws)
            sent = []
            for n, server in enumerate((server_a, server_b, server_a)):
                response = await post_message(
                    server,
                    token=team.token(team.ocu),
                    slug=team.slug,
                    subject=f"No. {n}",
                    to={"users": [first.user.username, second.user.username]},
                )
                assert response.status_code == 201, response.text
                sent.append(response.json()["id"])
            # Events of one socket leave the channel layer in order: after the last
            # message, a duplicate of an earlier one can no longer be pending.
            received = {}
            for name, ws in (("a", on_a), ("b", on_b), ("first_b", first_again_on_b)):
                received[name] = [(await receive(ws))["message"]["id"] for _ in sent]
            return sent, received

    sent, received = asyncio.run(scenario())

    # both tabs of the first officer (one per server) and the second officer's socket
    # get every message exactly once, in the order sent; the third officer is not addressed
    assert received == {"a": sent, "b": sent, "first_b": sent}
    assert third.user.deliveries.count() == 0
