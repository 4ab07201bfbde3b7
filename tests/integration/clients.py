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


class ResumingClient:
    """A client that keeps reconnecting like the browser does: after any loss of its socket it
    connects again (to ``url()``, asked anew each time) with ``?after=`` the last id it saw, so
    the server replays what it missed before anything new.

    ``ids`` lists every ``message.new`` it received, in arrival order, across connections, so a
    test can count what was lost and what came twice.
    """

    def __init__(self, url, token: str, *, ping_interval: float | None = 1, ping_timeout=3):
        self.url, self.token = url, token
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.ids: list[int] = []
        self.connections = 0
        self.ready = asyncio.Event()  # connected and resumed at least once
        self.socket: ClientConnection | None = None

    @property
    def last_id(self) -> int:
        """The last message received: the server sends them in delivery order."""
        return self.ids[-1] if self.ids else 0

    async def run(self, stop: asyncio.Event) -> None:
        from websockets.exceptions import WebSocketException

        while not stop.is_set():
            try:
                async with connect(
                    f"{self.url()}?after={self.last_id}",
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    open_timeout=5,
                    ping_interval=self.ping_interval,
                    ping_timeout=self.ping_timeout,
                    max_queue=None,
                ) as ws:
                    self.socket = ws
                    if json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] != "hello":
                        continue
                    self.connections += 1  # the server replays after `after`, then goes live
                    async for raw in ws:
                        event = json.loads(raw)
                        if event["type"] == "message.new":
                            self.ids.append(event["message"]["id"])
                        elif event["type"] == "resume.done":
                            self.ready.set()
                        if stop.is_set():
                            return
            except (OSError, TimeoutError, WebSocketException):
                pass  # refused, reset, closed by the server: connect again
            await asyncio.sleep(0.2)

    async def resume_now(self) -> None:
        """Ask the open socket for everything after the last id seen (no reconnection)."""
        await self.socket.send(json.dumps({"type": "resume", "after": self.last_id}))

    async def wait_for(self, ids: list[int], timeout: float) -> None:
        """Until every id in ``ids`` has arrived (or ``timeout`` seconds)."""
        wanted = set(ids)
        deadline = asyncio.get_running_loop().time() + timeout
        while not wanted <= set(self.ids) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)


def losses(sent: list[int], received: list[int]) -> dict[str, int]:
    """What a client lost and received twice, of ``sent``."""
    return {
        "lost": len(set(sent) - set(received)),
        "duplicated": len(received) - len(set(received)),
    }
