"""last_seen_at: written by signed-in requests, API calls and the websocket, at most once a
minute; a blocked user's websocket is refused like an anonymous one."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import api_token_create
from aircop.asgi import application


def _last_seen(user):
    return User.objects.get(pk=user.pk).last_seen_at


@pytest.mark.django_db
def test_a_signed_in_request_marks_the_user_seen_at_most_once_a_minute(officer, client):
    client.force_login(officer.user)
    assert _last_seen(officer.user) is None
    client.get(reverse("accounts:operations"))
    first = _last_seen(officer.user)
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("accounts:operations"))
    assert not [q for q in queries if "last_seen_at" in q["sql"] and "UPDATE" in q["sql"]]
    assert _last_seen(officer.user) == first
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        client.get(reverse("accounts:operations"))
        assert _last_seen(officer.user) > first


@pytest.mark.django_db
def test_an_api_call_with_a_token_marks_the_user_seen(officer, client):
    _token, secret = api_token_create(user=officer.user, name="script")
    client.get("/api/v1/operations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert _last_seen(officer.user) is not None


def _session_headers(user):
    client = Client()
    client.force_login(user)
    return [
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
        (b"origin", b"http://localhost"),
    ]


@pytest.mark.django_db(transaction=True)
async def test_the_websocket_marks_the_user_seen_on_connect_and_on_close(officer):
    headers = await database_sync_to_async(_session_headers)(officer.user)
    ws = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    await ws.receive_json_from(timeout=5)
    opened = await database_sync_to_async(_last_seen)(officer.user)
    assert opened is not None
    await ws.disconnect(timeout=5)
    closed = await database_sync_to_async(_last_seen)(officer.user)
    assert closed >= opened


@pytest.mark.django_db(transaction=True)
async def test_a_blocked_users_websocket_is_refused(officer):
    headers = await database_sync_to_async(_session_headers)(officer.user)
    _token, secret = await database_sync_to_async(api_token_create)(
        user=officer.user, name="script"
    )
    await database_sync_to_async(User.objects.filter(pk=officer.user.pk).update)(
        blocked_at=timezone.now()
    )
    for attempt in (headers, [(b"authorization", f"Bearer {secret}".encode())]):
        ws = WebsocketCommunicator(application, "/ws/", headers=attempt)
        connected, code = await ws.connect(timeout=5)
        assert (connected, code) == (False, 4401)
