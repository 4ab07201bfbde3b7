"""A message to many members of an operation goes once to the operation's group, naming its
recipients; each socket pushes it only to a recipient, without the list of recipients."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from accounts.models import Membership, Role
from accounts.services import api_token_create
from aircop.asgi import application
from messaging import consumers, selectors
from messaging.models import Message
from messaging.realtime import OPERATION_FANOUT_MIN, message_new_event, operation_group
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


async def test_the_sockets_of_one_broadcast_recheck_memberships_together(cocair, ocu, monkeypatch):
    # given a dozen connected officers whose copies of their memberships are stale
    monkeypatch.setattr(consumers, "MEMBERSHIP_RECHECK_SECONDS", 0)
    officers = await many_officers(cocair, OPERATION_FANOUT_MIN + 2)
    sockets = [await connect(officer.user) for officer in officers]
    reads = []
    read = selectors.operation_slugs_by_user

    def counted(*, user_ids):
        reads.append(sorted(user_ids))
        return read(user_ids=user_ids)

    monkeypatch.setattr(selectors, "operation_slugs_by_user", counted)
    # and one of them removed without any event (as if the channel layer dropped it)
    removed = officers[0]
    await database_sync_to_async(Membership.objects.filter(pk=removed.pk).update)(active=False)

    # when an event about the operation reaches all of them at once
    message = await database_sync_to_async(Message.objects.create)(
        operation=cocair, sender=ocu.user, subject="s", body="b"
    )
    event = await database_sync_to_async(message_new_event)(message)
    recipients = sorted(officer.user_id for officer in officers)
    await get_channel_layer().group_send(
        operation_group("cocair"), {**event, "recipients": recipients}
    )

    # then each member still hears of it, the removed officer does not
    for ws in sockets[1:]:
        assert (await ws.receive_json_from(timeout=5))["message"]["id"] == message.pk
    assert await sockets[0].receive_nothing(timeout=0.3)
    # and every socket's memberships were read again, in far fewer queries than sockets
    assert sorted({user_id for batch in reads for user_id in batch}) == recipients
    assert len(reads) <= 3
    for ws in sockets:
        await ws.disconnect()
