"""The real server refuses cross-site and unauthenticated websockets at the handshake."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from websockets.exceptions import InvalidStatus

from accounts.models import ApiToken
from accounts.services import api_token_revoke
from tests.integration.clients import receive, websocket

pytestmark = pytest.mark.integration

FOREIGN = "https://evil.example"


def _handshake(server, **kwargs) -> int | dict:
    """The first event on an accepted socket, or the HTTP status of a refused handshake."""

    async def scenario():
        try:
            async with websocket(server, **kwargs) as ws:
                return await receive(ws)
        except InvalidStatus as refused:
            return refused.response.status_code

    return asyncio.run(scenario())


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def _own_origin(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def test_bearer_client_without_origin_is_accepted(servers, team):
    officer = team.officers[0]
    hello = _handshake(servers[0], token=team.token(officer))
    assert hello["type"] == "hello"
    assert hello["user"] == officer.user.username
    assert hello["operations"] == [team.slug]


def test_signed_in_browser_from_the_site_is_accepted(servers, team):
    officer = team.officers[0]
    cookie = _session_cookie(officer.user)
    hello = _handshake(servers[0], origin=_own_origin(servers[0]), cookie=cookie)
    assert (hello["type"], hello["user"]) == ("hello", officer.user.username)


def test_signed_in_browser_on_a_foreign_site_is_refused(servers, team):
    # cross-site websocket hijacking: the victim's cookie rides along, the Origin betrays it
    cookie = _session_cookie(team.officers[0].user)
    assert _handshake(servers[0], origin=FOREIGN, cookie=cookie) == 403


def test_foreign_origin_is_refused_even_with_a_valid_token(servers, team):
    assert _handshake(servers[0], origin=FOREIGN, token=team.token(team.officers[0])) == 403


@pytest.mark.parametrize(
    "how",
    [
        "nothing",
        "own_origin_without_session",
        "unknown_token",
        "revoked_token",
        "expired_token",
        "empty_bearer",
    ],
)
def test_unauthenticated_connection_is_refused(servers, team, how):
    server = servers[0]
    officer = team.officers[0]
    token = team.token(officer)
    kwargs: dict = {}
    if how == "own_origin_without_session":
        kwargs = {"origin": _own_origin(server)}
    elif how == "unknown_token":
        kwargs = {"token": "acp_" + "x" * 43}
    elif how == "revoked_token":
        api_token_revoke(user=officer.user, token_id=ApiToken.objects.get(user=officer.user).pk)
        kwargs = {"token": token}
    elif how == "expired_token":
        ApiToken.objects.filter(user=officer.user).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        kwargs = {"token": token}
    elif how == "empty_bearer":
        kwargs = {"token": ""}
    assert _handshake(server, **kwargs) == 403


def test_token_of_a_deactivated_user_is_refused(servers, team):
    officer = team.officers[0]
    officer.user.is_active = False
    officer.user.save(update_fields=["is_active"])
    assert _handshake(servers[0], token=team.token(officer)) == 403
