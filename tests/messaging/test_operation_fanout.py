"""A message to many members of an operation goes once to the operation's group, naming its
recipients; each socket pushes it only to a recipient, without the list of recipients."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import Role
from accounts.services import api_token_create
from aircop.asgi import application
from messaging.realtime import OPERATION_FANOUT_MIN
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import MembershipFactory, UserFactory, member

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user):
    secret = (await database_sync_to_async(api_token_create)(user=user, name="t"))[1]
    ws = WebsocketCommunicator(
        application, "/ws/", headers=[(b"authorization", f"Bearer {secret}".encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from())["type"] == "hello"
    return ws


@database_sync_to_async
def many_officers(operation, count):
    return [member(operation, Role.OFFICER, "SN", "DSS") for _ in range(count)]


async def test_broadcast_reaches_each_addressed_socket_once_and_no_one_else(cocair, ocu):
    # given more officers than the per-recipient fan-out handles, and a national contact who
    # is a member of the operation but not addressed
    officers = await many_officers(cocair, OPERATION_FANOUT_MIN + 2)
    contact = await database_sync_to_async(member)(cocair, Role.NATIONAL_CONTACT, "SN", "DSS")
    first, last = await connect(officers[0].user), await connect(officers[-1].user)
    bystander = await connect(contact.user)

    # when the OCU sends to all officers
    message = await database_sync_to_async(message_send)(
        sender=ocu.user,
        operation=cocair,
        subject="To all officers",
        body="b",
        targets=Targets(officers=True),
    )

    # then each officer's socket gets it once, without the recipients' ids
    for ws in (first, last):
        event = await ws.receive_json_from(timeout=5)
        assert event["type"] == "message.new"
        assert event["message"]["id"] == message.pk
        assert "recipients" not in event
        assert await ws.receive_nothing(timeout=0.3)
    # and the national contact's socket gets nothing
    assert await bystander.receive_nothing(timeout=0.5)
    for ws in (first, last, bystander):
        await ws.disconnect()


async def test_a_member_added_while_connected_gets_broadcasts_after_a_resume(cocair, ocu):
    # given an officer whose socket opened before they joined the operation
    newcomer = await database_sync_to_async(UserFactory)(username="newcomer")
    ws = await connect(newcomer)
    await database_sync_to_async(MembershipFactory)(
        user=newcomer, operation=cocair, role=Role.OFFICER
    )
    await many_officers(cocair, OPERATION_FANOUT_MIN)

    # when the client resumes (as on reconnection, every few minutes, or back to the tab)
    await ws.send_json_to({"type": "resume", "after": 0})
    assert (await ws.receive_json_from(timeout=5))["type"] == "resume.done"

    # then a broadcast to the operation reaches it live
    message = await database_sync_to_async(message_send)(
        sender=ocu.user,
        operation=cocair,
        subject="Welcome",
        body="b",
        targets=Targets(officers=True),
    )
    event = await ws.receive_json_from(timeout=5)
    assert (event["message"]["id"], event["operation"]) == (message.pk, "cocair")
    await ws.disconnect()
