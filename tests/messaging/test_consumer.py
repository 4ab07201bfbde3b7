"""The websocket consumer through the full ASGI stack (origin check, session or Bearer auth)."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import Role
from accounts.services import api_token_create
from aircop.asgi import application
from messaging import realtime
from messaging.realtime import OPERATION_FANOUT_MIN, message_new_event, user_group
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import member as add_member

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def session_headers(user):
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), ORIGIN]


@database_sync_to_async
def send(sender, operation, subject="Alert", **targets):
    return message_send(
        sender=sender.user,
        operation=operation,
        subject=subject,
        body="b",
        targets=Targets(**targets),
    )


async def connect(headers):
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_new_message_is_pushed_to_the_recipient(cocair, ocu, officer):
    ws, connected = await connect(await database_sync_to_async(session_headers)(officer.user))
    assert connected
    hello = await ws.receive_json_from()
    assert hello == {"type": "hello", "user": "officer", "operations": ["cocair"]}

    message = await send(ocu, cocair, subject="Control ET 908", officers=True)

    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "message.new"
    assert event["operation"] == "cocair"
    assert event["replay"] is False
    assert event["message"]["id"] == message.pk
    assert event["message"]["subject"] == "Control ET 908"
    assert event["message"]["kind"] == "free_text"
    assert event["message"]["sender"]["username"] == "ocu"
    assert event["message"]["url"] == f"/o/cocair/messages/{message.pk}/"
    await ws.disconnect()


async def test_resume_replays_every_missed_delivery_in_order_then_done(cocair, ocu, officer):
    first = await send(ocu, cocair, subject="m0", officers=True)
    later = [await send(ocu, cocair, subject=f"m{i}", officers=True) for i in range(1, 4)]
    ws, _ = await connect(await database_sync_to_async(session_headers)(officer.user))
    await ws.receive_json_from()  # hello

    await ws.send_json_to({"type": "resume", "after": first.pk})
    replayed = [await ws.receive_json_from(timeout=5) for _ in later]
    assert [e["message"]["id"] for e in replayed] == [m.pk for m in later]
    assert all(e["replay"] for e in replayed)
    done = await ws.receive_json_from(timeout=5)
    assert done == {
        "type": "resume.done",
        "last_id": later[-1].pk,
        "replayed": 3,
        "unread": {"cocair": 4},
    }
    # A second resume from the same point pushes nothing twice on this connection.
    await ws.send_json_to({"type": "resume", "after": first.pk})
    again = await ws.receive_json_from(timeout=5)
    assert again["type"] == "resume.done" and again["replayed"] == 0
    await ws.disconnect()


async def test_resume_rejects_a_bad_cursor_naming_the_field(cocair, officer):
    ws, _ = await connect(await database_sync_to_async(session_headers)(officer.user))
    await ws.receive_json_from()
    await ws.send_json_to({"type": "resume", "after": "yesterday"})
    assert await ws.receive_json_from() == {
        "type": "error",
        "field": "after",
        "detail": "`after` must be a non-negative integer message id.",
    }
    await ws.disconnect()


async def test_events_of_an_operation_the_user_is_not_in_are_not_delivered(cocair, officer):
    ws, _ = await connect(await database_sync_to_async(session_headers)(officer.user))
    await ws.receive_json_from()
    await get_channel_layer().group_send(
        user_group(officer.user_id),
        {
            "type": "message.new",
            "operation": "elsewhere",
            "message": {"id": 1, "subject": "secret"},
        },
    )
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_resume_skips_operations_the_user_has_left(cocair, ocu, officer):
    await send(ocu, cocair, officers=True)
    officer.active = False
    await database_sync_to_async(officer.save)()
    ws, _ = await connect(await database_sync_to_async(session_headers)(officer.user))
    hello = await ws.receive_json_from()
    assert hello["operations"] == []
    await ws.send_json_to({"type": "resume", "after": 0})
    done = await ws.receive_json_from(timeout=5)
    assert done["type"] == "resume.done" and done["replayed"] == 0
    await ws.disconnect()


async def test_unauthenticated_connection_is_refused(cocair):
    _ws, connected = await connect([ORIGIN])
    assert not connected


async def test_foreign_origin_is_refused_even_when_signed_in(cocair, officer):
    headers = await database_sync_to_async(session_headers)(officer.user)
    headers = [h for h in headers if h[0] != b"origin"] + [(b"origin", b"https://evil.example")]
    _ws, connected = await connect(headers)
    assert not connected


async def test_session_without_origin_is_refused(cocair, officer):
    headers = await database_sync_to_async(session_headers)(officer.user)
    _ws, connected = await connect([h for h in headers if h[0] != b"origin"])
    assert not connected


async def test_bearer_token_client_connects_without_origin(cocair, ocu, officer):
    _token, secret = await database_sync_to_async(api_token_create)(user=officer.user, name="t")
    ws, connected = await connect([(b"authorization", f"Bearer {secret}".encode())])
    assert connected
    assert (await ws.receive_json_from())["user"] == "officer"
    message = await send(ocu, cocair, officers=True)
    assert (await ws.receive_json_from(timeout=5))["message"]["id"] == message.pk
    await ws.disconnect()


async def test_bad_bearer_token_is_refused(cocair):
    _ws, connected = await connect([(b"authorization", b"Bearer acp_wrong")])
    assert not connected


@database_sync_to_async
def send_alert_to_officers(ocu, operation):
    from datetime import date

    from messaging.formatted import AlertInput, SubjectInput

    return message_send(
        sender=ocu.user,
        operation=operation,
        kind="alert",
        priority="urgent",
        targets=Targets(officers=True),
        details=AlertInput(
            flight_number="ET908",
            flight_date=date.today(),
            departure_airport="GRU",
            destination_airport="DSS",
            subjects=(SubjectInput(name="Jane Roe"),),
        ),
    )


async def test_ocu_hears_when_an_officer_reads_and_acknowledges_an_alert(cocair, ocu, officer):
    from messaging.services import delivery_acknowledge, delivery_mark_read

    alert = await send_alert_to_officers(ocu, cocair)
    ws, _ = await connect(await database_sync_to_async(session_headers)(ocu.user))
    await ws.receive_json_from()  # hello

    await database_sync_to_async(delivery_mark_read)(user=officer.user, message=alert)
    read = await ws.receive_json_from(timeout=5)
    assert (read["type"], read["message_id"], read["recipient"]) == (
        "delivery.read",
        alert.pk,
        "officer",
    )
    assert read["read_at"] and read["acknowledged_at"] is None

    await database_sync_to_async(delivery_acknowledge)(user=officer.user, message=alert)
    ack = await ws.receive_json_from(timeout=5)
    assert (ack["type"], ack["recipient"]) == ("delivery.acknowledged", "officer")
    assert ack["acknowledged_at"] is not None
    await ws.disconnect()


async def test_urgent_alert_event_carries_priority(cocair, ocu, officer):
    ws, _ = await connect(await database_sync_to_async(session_headers)(officer.user))
    await ws.receive_json_from()
    alert = await send_alert_to_officers(ocu, cocair)
    event = await ws.receive_json_from(timeout=5)
    assert event["message"]["id"] == alert.pk
    assert (event["message"]["kind"], event["message"]["priority"]) == ("alert", "urgent")
    await ws.disconnect()


async def test_connecting_with_after_replays_what_was_missed_first(cocair, ocu, officer):
    # given messages the officer missed while offline
    missed = [await send(ocu, cocair, subject=f"m{i}", officers=True) for i in range(3)]
    _token, secret = await database_sync_to_async(api_token_create)(user=officer.user, name="t")

    # when the client reconnects to /ws/?after=<the last id it saw>
    ws = WebsocketCommunicator(
        application,
        f"/ws/?after={missed[0].pk}",
        headers=[(b"authorization", f"Bearer {secret}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from())["type"] == "hello"

    # then it gets what it missed, oldest first, without asking, then resume.done
    replay = [await ws.receive_json_from(timeout=5) for _ in range(3)]
    assert [(e["type"], e.get("message", {}).get("id"), e.get("replay")) for e in replay] == [
        ("message.new", missed[1].pk, True),
        ("message.new", missed[2].pk, True),
        ("resume.done", None, None),
    ]
    # and what is new after it, live
    live = await send(ocu, cocair, subject="new", officers=True)
    event = await ws.receive_json_from(timeout=5)
    assert (event["message"]["id"], event["replay"]) == (live.pk, False)
    await ws.disconnect()


async def test_live_events_reach_the_socket_without_a_trip_to_the_database_thread(
    cocair, ocu, officer, monkeypatch
):
    # given five messages, and a connected officer whose memberships were just read
    messages = [await send(ocu, cocair, subject=f"m{i}", officers=True) for i in range(5)]
    events = [await database_sync_to_async(message_new_event)(m) for m in messages]
    ws, connected = await connect(await database_sync_to_async(session_headers)(officer.user))
    assert connected
    await ws.receive_json_from()  # hello
    trips = []

    async def close_old_connections():
        trips.append("close_old_connections")

    monkeypatch.setattr("channels.consumer.aclose_old_connections", close_old_connections)

    # when their events arrive within the second
    for event in events:
        await get_channel_layer().group_send(user_group(officer.user_id), event)

    # then each is pushed, without Channels' hop to the process's one database thread before
    # each handler (which queued a broadcast's events behind every query of the process)
    for message in messages:
        assert (await ws.receive_json_from(timeout=5))["message"]["id"] == message.pk
    assert trips == []
    await ws.disconnect()


async def test_a_live_event_is_encoded_once_for_all_the_sockets_of_a_process(
    cocair, ocu, officer, colleague, monkeypatch
):
    from messaging.consumers import InboxConsumer

    sockets = []
    for member in (officer, colleague, officer):  # two recipients, one of them in two tabs
        ws, connected = await connect(await database_sync_to_async(session_headers)(member.user))
        assert connected
        await ws.receive_json_from()  # hello
        sockets.append(ws)
    encoded = []
    stock = InboxConsumer.encode_json

    async def counted(cls, content):
        encoded.append(content.get("type"))
        return await stock(content)

    monkeypatch.setattr(InboxConsumer, "encode_json", classmethod(counted))

    message = await send(ocu, cocair, subject="Control ET 908", officers=True)

    texts = [await ws.receive_from(timeout=5) for ws in sockets]
    assert len(set(texts)) == 1  # the same text, without the recipients' ids
    assert '"replay": false' in texts[0] and f'"id": {message.pk}' in texts[0]
    assert "recipients" not in texts[0]
    assert encoded == ["message.new"]
    for ws in sockets:
        await ws.disconnect()


@pytest.mark.parametrize(
    "other_officers", [0, OPERATION_FANOUT_MIN], ids=["per-user event", "operation event"]
)
async def test_an_event_that_overtakes_an_earlier_one_waits_for_it(
    cocair, ocu, officer, other_officers, monkeypatch, caplog
):
    # given a connected officer who got the first message (and, for a broadcast, enough
    # other officers that the event goes once to the operation's group)
    for _ in range(other_officers):
        await database_sync_to_async(add_member)(cocair, Role.OFFICER)
    ws, connected = await connect(await database_sync_to_async(session_headers)(officer.user))
    assert connected
    await ws.receive_json_from()  # hello
    first = await send(ocu, cocair, subject="first", officers=True)
    assert (await ws.receive_json_from(timeout=5))["message"]["id"] == first.pk

    # when the second message's event is late (another process has not published it yet) and
    # the third's arrives before it
    late = []

    async def held_back(sends):
        late.append(sends)

    monkeypatch.setattr(realtime, "_group_send_all", held_back)
    second = await send(ocu, cocair, subject="second", officers=True)
    monkeypatch.undo()
    third = await send(ocu, cocair, subject="third", officers=True)

    # then the socket pushes the second (read from the database) before the third, both new
    got = [await ws.receive_json_from(timeout=5) for _ in range(2)]
    assert [(e["message"]["id"], e["replay"]) for e in got] == [
        (second.pk, False),
        (third.pk, False),
    ]
    assert "arrived before delivery" in caplog.text  # how often it happens shows in the log
    # and the late event, when it comes, is not pushed again
    await realtime._group_send_all(*late)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    await ws.disconnect()


async def test_resume_follows_the_order_of_delivery_not_of_ids(cocair, ocu, officer):
    from tests.factories import delivered_in_reverse

    # given two messages the officer received in the other order than their ids
    first = await send(ocu, cocair, subject="first", officers=True)
    second = await send(ocu, cocair, subject="second", officers=True)
    await database_sync_to_async(delivered_in_reverse)(first, second, officer.user)
    ws, _ = await connect(await database_sync_to_async(session_headers)(officer.user))
    await ws.receive_json_from()  # hello

    # when a client that got the second (the higher id) resumes after it
    await ws.send_json_to({"type": "resume", "after": second.pk})

    # then it gets the first, delivered after it
    event = await ws.receive_json_from(timeout=5)
    assert (event["message"]["id"], event["replay"]) == (first.pk, True)
    done = await ws.receive_json_from(timeout=5)
    assert (done["type"], done["last_id"], done["replayed"]) == ("resume.done", first.pk, 1)
    await ws.disconnect()
