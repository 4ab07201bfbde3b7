"""A removal or a deactivation made through server A closes the member's socket on server B
(the Redis channel layer carries the event), and the member's requests answer 404 / 401."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.clients import WAIT, connect_ready, receive, websocket

pytestmark = pytest.mark.integration


async def closed_code(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), timeout=WAIT)
    return closed.value.rcvd.code


def test_a_member_removed_on_server_a_is_cut_off_on_server_b(servers, team):
    server_a, server_b = servers
    officer = team.officers[0]
    username = officer.user.username

    async def scenario():
        async with websocket(server_b, token=team.token(officer)) as ws:
            await connect_ready(ws)
            async with httpx.AsyncClient(base_url=server_a.url, timeout=WAIT) as client:
                removed = await client.delete(
                    f"/api/v1/manage/operations/{team.slug}/members/{username}",
                    headers={"Authorization": f"Bearer {team.token(team.ocu)}"},
                )
            event = await receive(ws)
            code = await closed_code(ws)
        async with httpx.AsyncClient(base_url=server_b.url, timeout=WAIT) as client:
            inbox = await client.get(
                f"/api/v1/operations/{team.slug}/inbox",
                headers={"Authorization": f"Bearer {team.token(officer)}"},
            )
        return removed, event, code, inbox

    removed, event, code, inbox = asyncio.run(scenario())
    assert removed.status_code == 204, removed.text
    assert event == {"type": "operation.revoked", "operation": team.slug}
    assert code == 4403
    assert inbox.status_code == 404


def test_a_user_deactivated_on_server_a_is_disconnected_on_server_b(servers, team):
    from accounts.services import api_token_create
    from tests.factories import UserFactory

    admin = UserFactory(username="it-admin", is_staff=True)
    admin_secret = api_token_create(user=admin, name="integration")[1]
    server_a, server_b = servers
    officer = team.officers[1]

    async def scenario():
        async with websocket(server_b, token=team.token(officer)) as ws:
            await connect_ready(ws)
            async with httpx.AsyncClient(base_url=server_a.url, timeout=WAIT) as client:
                deactivated = await client.post(
                    f"/api/v1/manage/users/{officer.user.username}/deactivate",
                    headers={"Authorization": f"Bearer {admin_secret}"},
                )
            code = await closed_code(ws)
        async with httpx.AsyncClient(base_url=server_b.url, timeout=WAIT) as client:
            after = await client.get(
                "/api/v1/operations", headers={"Authorization": f"Bearer {team.token(officer)}"}
            )
        return deactivated, code, after

    deactivated, code, after = asyncio.run(scenario())
    assert deactivated.status_code == 204, deactivated.text
    assert code == 4401
    assert after.status_code == 401
