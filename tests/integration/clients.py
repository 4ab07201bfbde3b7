"""Clients of the real servers for the integration tier: websocket and JSON API.

Every wait is bounded by ``WAIT`` seconds so that a missing event fails the test
instead of hanging it; no test asserts on durations.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import AsgiServer

WAIT = 20


async def open_socket(
    server: AsgiServer, *, token: str | None = None, origin: str | None = None, cookie: str = ""
) -> ClientConnection:
    """A websocket on ``/ws/``: a script (Bearer, no Origin) or a browser (Origin, cookie)."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = cookie
    return await connect(
        server.ws_url, additional_headers=headers, origin=origin, open_timeout=WAIT
    )


@asynccontextmanager
async def websocket(server: AsgiServer, **kwargs):
    """:func:`open_socket`, closed on leaving the block."""
    ws = await open_socket(server, **kwargs)
    try:
        yield ws
    finally:
        await ws.close()


async def receive(ws: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=WAIT))


async def receive_until(ws: ClientConnection, event_type: str) -> list[dict]:
    """Every event up to and including the first of ``event_type``."""
    events = []
    while True:
        event = await receive(ws)
        events.append(event)
        if event.get("type") == event_type:
            return events


async def connect_ready(ws: ClientConnection, *, after: int = 0) -> list[dict]:
    """Expect ``hello``, resume after ``after``; return what the resume replayed."""
    hello = await receive(ws)
    assert hello["type"] == "hello", hello
    await ws.send(json.dumps({"type": "resume", "after": after}))
    return await receive_until(ws, "resume.done")


async def drain(ws: ClientConnection) -> list[dict]:
    """Everything the server had queued for this socket: a ping's pong comes after it."""
    await ws.send(json.dumps({"type": "ping"}))
    return (await receive_until(ws, "pong"))[:-1]


async def post_message(
    server: AsgiServer, *, token: str, slug: str, subject: str, to: dict, body: str = "Body."
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as client:
        return await client.post(
            f"/api/v1/operations/{slug}/messages",
            headers={"Authorization": f"Bearer {token}"},
            json={"kind": "free_text", "subject": subject, "body": body, "to": to},
        )
