"""A removal, a role change or a deactivation reaches the member's open websockets at once."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.deactivation import user_deactivate
from accounts.members import membership_change_role, membership_remove
from accounts.models import Membership, Role
from aircop.asgi import application
from messaging import consumers
from messaging.realtime import message_new_event, user_group
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import OperationFactory, UserFactory, member

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def session_headers(user):
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), ORIGIN]


async def connect(user):
    headers = await database_sync_to_async(session_headers)(user)
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def closed_with(communicator) -> int:
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    return output["code"]


async def test_a_removed_member_is_told_and_the_socket_closed(cocair, ocu, officer):
    ws = await connect(officer.user)
    assert (await ws.receive_json_from())["operations"] == ["cocair"]

    await database_sync_to_async(membership_remove)(actor=ocu.user, membership=officer)

    assert await ws.receive_json_from(timeout=5) == {
        "type": "operation.revoked",
        "operation": "cocair",
    }
    assert await closed_with(ws) == consumers.CLOSE_ACCESS_CHANGED
    # Reconnecting, the operation is gone from the list.
    again = await connect(officer.user)
    assert (await again.receive_json_from())["operations"] == []
    await again.disconnect()


async def test_a_removed_member_hears_nothing_more_of_the_operation(cocair, ocu, officer):
    other = await database_sync_to_async(OperationFactory)(slug="other")
    await database_sync_to_async(member)(other, Role.OCU, username="other-ocu")
    await database_sync_to_async(Membership.objects.create)(
        user=officer.user, operation=other, role=Role.OFFICER
    )
    ws = await connect(officer.user)
    await ws.receive_json_from()  # hello
    await database_sync_to_async(membership_remove)(actor=ocu.user, membership=officer)
    await ws.receive_json_from(timeout=5)  # operation.revoked
    await closed_with(ws)
    again = await connect(officer.user)
    assert (await again.receive_json_from())["operations"] == ["other"]
    await database_sync_to_async(member)(cocair, Role.OFFICER, username="colleague")

    await database_sync_to_async(message_send)(
        sender=ocu.user, operation=cocair, subject="after", body="b", targets=Targets(officers=True)
    )
    assert await again.receive_nothing(timeout=0.5)
    await again.disconnect()


async def test_the_consumer_rechecks_membership_even_if_the_event_was_lost(
    cocair, ocu, officer, monkeypatch
):
    monkeypatch.setattr(consumers, "MEMBERSHIP_RECHECK_SECONDS", 0)
    message = await database_sync_to_async(message_send)(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    ws = await connect(officer.user)
    await ws.receive_json_from()  # hello
    # The membership ends without any event (as if the channel layer dropped it)...
    await database_sync_to_async(Membership.objects.filter(pk=officer.pk).update)(active=False)
    # ... then an event about the operation arrives: it is not delivered.
    event = await database_sync_to_async(message_new_event)(message)
    await get_channel_layer().group_send(user_group(officer.user_id), event)
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_a_role_change_is_pushed_to_the_member(cocair, ocu, officer):
    ws = await connect(officer.user)
    await ws.receive_json_from()  # hello
    await database_sync_to_async(membership_change_role)(
        actor=ocu.user, membership=officer, role=Role.NATIONAL_CONTACT
    )
    assert await ws.receive_json_from(timeout=5) == {
        "type": "membership.changed",
        "operation": "cocair",
        "role": "national_contact",
    }
    await ws.disconnect()


async def test_a_deactivated_user_is_disconnected_for_good(cocair, ocu, officer):
    admin = await database_sync_to_async(UserFactory)(username="admin", is_staff=True)
    headers = await database_sync_to_async(session_headers)(officer.user)
    ws = WebsocketCommunicator(application, "/ws/", headers=headers)
    assert (await ws.connect())[0]
    await ws.receive_json_from()  # hello
    await database_sync_to_async(user_deactivate)(actor=admin, user=officer.user)
    assert await closed_with(ws) == consumers.CLOSE_UNAUTHENTICATED
    # The same session cookie no longer opens a socket.
    again = WebsocketCommunicator(application, "/ws/", headers=headers)
    assert await again.connect() == (False, consumers.CLOSE_UNAUTHENTICATED)
