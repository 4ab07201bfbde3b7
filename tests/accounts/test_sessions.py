"""Sessions: a new id at login, idle and absolute timeouts (frozen clock), logout and password
change end sessions on the server, Argon2 hashes, and the websocket follows the same rules."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from aircop import settings as project_settings
from tests.factories import PASSWORD, OperationFactory, member
from tests.otp import force_login_unverified, totp_code, totp_device

pytestmark = pytest.mark.django_db

INBOX = "/o/cocair/"
NOON = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def officer():
    return member(
        OperationFactory(slug="cocair", name="COCAIR VI"), Role.OFFICER, username="officer"
    ).user


def session_key(client) -> str:
    return client.cookies["sessionid"].value


def test_the_session_id_changes_at_each_login_step(client, officer):
    device = totp_device(officer)
    before = client.session  # an anonymous session, as a visitor's browser has
    before["seen"] = True
    before.save()
    anonymous = session_key(client)

    client.post(reverse("accounts:login"), {"username": "officer", "password": PASSWORD})
    after_password = session_key(client)
    client.post(reverse("accounts:second_factor"), {"code": totp_code(device)})
    signed_in = session_key(client)

    assert len({anonymous, after_password, signed_in}) == 3
    assert not SessionStore(session_key=anonymous).exists(anonymous)
    assert not SessionStore(session_key=after_password).exists(after_password)
    assert client.get(INBOX).status_code == 200


def test_idle_session_ends_after_30_minutes(client, officer):
    with time_machine.travel(NOON, tick=False) as clock:
        client.force_login(officer)
        key = session_key(client)
        for _ in range(3):  # activity keeps it alive, well past 30 minutes in all
            clock.shift(timedelta(minutes=29))
            assert client.get(INBOX).status_code == 200
        clock.shift(timedelta(minutes=30))
        response = client.get(INBOX, follow=True)
        assert response.redirect_chain[0][0].startswith(reverse("accounts:login"))
        assert "30 minutes without activity" in response.content.decode()
        assert not SessionStore(session_key=key).exists(key)


def test_session_ends_12_hours_after_login_even_when_active(client, officer):
    with time_machine.travel(NOON, tick=False) as clock:
        client.force_login(officer)
        for _ in range(47):  # a request every 15 minutes: 11 h 45
            clock.shift(timedelta(minutes=15))
            assert client.get(INBOX).status_code == 200
        clock.shift(timedelta(minutes=15))
        response = client.get(INBOX, follow=True)
        assert response.redirect_chain[0][0].startswith(reverse("accounts:login"))
        assert "12 hours after you logged in" in response.content.decode()


def test_timeouts_come_from_settings(client, officer, settings):
    settings.AIRCOP_SESSION_IDLE_SECONDS = 120
    with time_machine.travel(NOON, tick=False) as clock:
        client.force_login(officer)
        clock.shift(121)
        assert client.get(INBOX).status_code == 302
    assert project_settings.AIRCOP_SESSION_IDLE_SECONDS == 30 * 60
    assert project_settings.AIRCOP_SESSION_ABSOLUTE_SECONDS == 12 * 3600


def test_logout_ends_the_session_on_the_server(client, officer):
    client.force_login(officer)
    key = session_key(client)
    assert client.get(reverse("accounts:logout")).status_code == 405  # POST only
    client.post(reverse("accounts:logout"))
    assert not SessionStore(session_key=key).exists(key)

    replay = Client()
    replay.cookies["sessionid"] = key  # someone kept the old cookie
    assert replay.get(INBOX).status_code == 302


def test_password_change_ends_the_other_sessions_and_keeps_this_one(client, officer):
    client.force_login(officer)
    phone = Client()
    phone.force_login(officer)
    phone_key = session_key(phone)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-2026",
            "new_password2": "a-new-long-passphrase-2026",
        },
    )

    assert response.status_code == 302
    assert client.get(INBOX).status_code == 200
    assert phone.get(INBOX).status_code == 302
    assert not SessionStore(session_key=phone_key).exists(phone_key)


def test_passwords_are_hashed_with_argon2_and_old_hashes_upgrade_at_login(
    client, officer, settings
):
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    User.objects.filter(pk=officer.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    client.post(reverse("accounts:login"), {"username": "officer", "password": PASSWORD})
    officer.refresh_from_db()
    assert officer.password.startswith("argon2")
    assert officer.check_password(PASSWORD)


def test_password_validators_are_on(client, officer):
    client.force_login(officer)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


# --- the websocket --------------------------------------------------------------------------


async def ws_connect(cookie_key):
    from aircop.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"cookie", f"sessionid={cookie_key}".encode()), (b"origin", b"http://localhost")],
    )
    connected, code = await communicator.connect()
    await communicator.disconnect()
    return connected, code


def _session_of(login, user):
    client = Client()
    login(client, user)
    return session_key(client)


@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_a_session_without_second_factor(officer):
    key = await database_sync_to_async(_session_of)(force_login_unverified, officer)
    assert await ws_connect(key) == (False, 4401)
    verified = await database_sync_to_async(_session_of)(Client.force_login, officer)
    assert (await ws_connect(verified))[0] is True


@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_an_idle_session(officer):
    with time_machine.travel(NOON, tick=False) as clock:
        key = await database_sync_to_async(_session_of)(Client.force_login, officer)
        clock.shift(timedelta(minutes=31))
        assert await ws_connect(key) == (False, 4401)


async def _open(key):
    from aircop.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"cookie", f"sessionid={key}".encode()), (b"origin", b"http://localhost")],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


@pytest.mark.django_db(transaction=True)
async def test_an_open_websocket_closes_when_its_session_times_out(officer, settings):
    settings.AIRCOP_SESSION_IDLE_SECONDS = 2
    key = await database_sync_to_async(_session_of)(Client.force_login, officer)
    ws = await _open(key)
    assert await ws.receive_output(timeout=15) == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
async def test_an_open_websocket_closes_after_a_logout_in_another_tab(officer, monkeypatch):
    monkeypatch.setattr("accounts.auth.WEBSOCKET_SESSION_CHECK_SECONDS", 1)
    key = await database_sync_to_async(_session_of)(Client.force_login, officer)
    ws = await _open(key)

    def log_out():
        tab = Client()
        tab.cookies["sessionid"] = key
        tab.post(reverse("accounts:logout"))

    await database_sync_to_async(log_out)()
    assert await ws.receive_output(timeout=15) == {"type": "websocket.close", "code": 4401}
