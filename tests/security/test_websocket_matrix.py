"""The websocket routes in the authorisation matrix: every route of messaging/websocket_urls.py
is classified (tests/security/routes.py), anonymous handshakes are refused, and an event of an
operation reaches nobody outside it: not a member of another operation, not an administrator,
not a member who has left since connecting; asking to subscribe to an operation is refused."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.services import membership_leave
from aircop.asgi import application
from messaging.consumers import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED
from messaging.realtime import message_new_event, user_group
from messaging.routing import Targets
from messaging.services import message_send
from messaging.websocket_urls import websocket_urlpatterns

from . import routes as matrix

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def test_every_websocket_route_is_classified():
    patterns = [str(p.pattern) for p in websocket_urlpatterns]
    unclassified = [p for p in patterns if p not in matrix.WEBSOCKET_ROUTES]
    assert not unclassified, (
        f"Websocket routes nobody classified in tests/security/routes.py: {unclassified}"
    )
    assert set(matrix.WEBSOCKET_ROUTES) <= set(patterns), "a classified websocket route is gone"


def _headers(user):
    if user is None:
        return [ORIGIN]
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), ORIGIN]


async def _connect(user):
    headers = await database_sync_to_async(_headers)(user)
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@database_sync_to_async
def _send(world, subject):
    return message_send(
        sender=world.ocu.user,
        operation=world.operation,
        subject=subject,
        body="b",
        targets=Targets(officers=True, national_contacts=True),
    )


async def test_anonymous_handshake_is_refused(world):
    _ws, connected, code = await _connect(None)
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize("persona", ["outsider", "staff"])
async def test_nothing_of_an_operation_reaches_a_non_member(world, persona):
    user = world.outsider.user if persona == "outsider" else world.staff
    ws, connected, _code = await _connect(user)
    assert connected
    hello = await ws.receive_json_from()
    assert world.operation.slug not in hello["operations"]

    # Subscribing to the operation is refused.
    await ws.send_json_to({"type": "subscribe", "operation": world.operation.slug})
    refused = await ws.receive_json_from(timeout=5)
    assert refused["type"] == "error"

    # A message of the operation, even pushed at this user's own group, is dropped.
    message = await _send(world, "Control ET 908")
    await get_channel_layer().group_send(user_group(user.pk), message_new_event(message))
    for event_type in ("delivery.read", "delivery.acknowledged"):
        await get_channel_layer().group_send(
            user_group(user.pk),
            {"type": event_type, "operation": world.operation.slug, "message_id": message.pk},
        )
    # A resume from the beginning replays nothing of it.
    await ws.send_json_to({"type": "resume", "after": 0})
    done = await ws.receive_json_from(timeout=5)
    assert done["type"] == "resume.done"
    assert done["replayed"] == 0
    assert world.operation.slug not in done["unread"]
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_a_member_receives_the_operations_events(world):
    ws, connected, _code = await _connect(world.officer.user)
    assert connected
    await ws.receive_json_from()
    message = await _send(world, "Control ET 908")
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "message.new"
    assert event["message"]["id"] == message.pk
    await ws.disconnect()


async def test_a_member_who_left_receives_nothing_more(world):
    """Authorisation for every event delivered, not only at connect."""
    ws, connected, _code = await _connect(world.officer.user)
    assert connected
    await ws.receive_json_from()
    message = await _send(world, "Before leaving")
    assert (await ws.receive_json_from(timeout=5))["message"]["id"] == message.pk

    await database_sync_to_async(membership_leave)(membership=world.officer)
    # The socket is told and closes (operation.revoked, sent on commit). Events of the
    # operation still addressed to the user's group after it (a message sent in the same
    # instant, a read in another tab) are dropped: none reaches the client.
    layer = get_channel_layer()
    group = user_group(world.officer.user_id)
    later = await _send(world, "After leaving")  # not addressed to the officer any more
    await layer.group_send(group, message_new_event(later))
    await layer.group_send(
        group, {"type": "delivery.read", "operation": world.operation.slug, "message_id": 1}
    )
    await layer.group_send(
        group,
        {"type": "delivery.acknowledged", "operation": world.operation.slug, "message_id": 1},
    )
    revoked = await ws.receive_json_from(timeout=5)
    assert revoked == {"type": "operation.revoked", "operation": world.operation.slug}
    closed = await ws.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()
