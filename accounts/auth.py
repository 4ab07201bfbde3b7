"""Authentication at the edges: Bearer tokens for the API and the websocket, the session rules
on the websocket, Origin checks.

Browsers use the session cookie; scripts and non-browser clients send
``Authorization: Bearer <token>``. A websocket handshake that carries an
``Origin`` header (every browser sends one) must come from an allowed host; a
handshake without ``Origin`` is accepted only when it authenticates with a
Bearer token, which a cross-site page cannot attach.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from importlib import import_module

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from ninja.security import HttpBearer

from . import sessions
from .models import User
from .selectors import token_for_secret, user_for_token
from .services import api_token_touch


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def bearer_secret(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


class ApiBearerAuth(HttpBearer):
    """django-ninja authentication by personal API token; ``request.auth`` is the user."""

    def authenticate(self, request, token):
        api_token = token_for_secret(secret=token)
        if api_token is None:
            return None
        api_token_touch(token=api_token)
        request.user = api_token.user
        return api_token.user


class WebsocketBearerAuthMiddleware:
    """When the handshake carries a Bearer token, the token alone decides who the user is."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        secret = bearer_secret(_header(scope, b"authorization"))
        if secret is not None:
            user = await sync_to_async(user_for_token)(secret=secret)
            scope = dict(scope, user=user or AnonymousUser(), auth_method="token")
        return await self.application(scope, receive, send)


class WebsocketSessionPolicyMiddleware:
    """A user from the session cookie counts only while the session is verified by a second
    factor and neither idle nor too old (``accounts.sessions``, as for every page); otherwise
    the socket is anonymous and the consumer refuses it (4401). Inside AuthMiddlewareStack."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        signed_in = user is not None and user.is_authenticated
        if signed_in and not await database_sync_to_async(_session_is_live)(scope["session"], user):
            scope = dict(scope, user=AnonymousUser())
        return await self.application(scope, receive, send)


def _session_is_live(session, user) -> bool:
    return (
        sessions.session_is_verified(session, user) and sessions.session_end_reason(session) is None
    )


WEBSOCKET_SESSION_CHECK_SECONDS = 300


async def websocket_session_watch(scope, close: Callable[[], Awaitable[None]]) -> None:
    """For a socket signed in by its session cookie: close it (4401) once its session has
    ended. Looks again when the session would time out (activity in another tab moves that)
    and at least every ``WEBSOCKET_SESSION_CHECK_SECONDS``, which catches a logout in another
    tab, a password change, a second factor reset or a deactivated account. Runs as a task
    of the consumer."""
    if scope.get("auth_method") == "token" or "session" not in scope:
        return
    session_key, user_id = scope["session"].session_key, scope["user"].pk
    while True:
        ends_at = await database_sync_to_async(_session_ends_at)(session_key, user_id)
        if ends_at is None:
            await close()
            return
        now = timezone.now().timestamp()
        await asyncio.sleep(max(1.0, min(ends_at - now, WEBSOCKET_SESSION_CHECK_SECONDS)))


def _session_ends_at(session_key: str | None, user_id: int) -> int | None:
    """When the session ends (see sessions.session_ends_at), re-read from the store; None
    when it has ended or no longer belongs to a verified, active user with this password."""
    if session_key is None:
        return None
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    if not session.exists(session_key) or str(session.get(SESSION_KEY)) != str(user_id):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(
        session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    ):
        return None
    if not sessions.session_is_verified(session, user):
        return None
    return sessions.session_ends_at(session)


class BearerAwareOriginValidator(OriginValidator):
    async def __call__(self, scope, receive, send):
        if _header(scope, b"origin") is None and bearer_secret(_header(scope, b"authorization")):
            return await self.application(scope, receive, send)
        return await super().__call__(scope, receive, send)


def websocket_origin_validator(application):
    """AllowedHostsOriginValidator's rules, plus Bearer-only clients without an Origin."""
    allowed = AllowedHostsOriginValidator(application).allowed_origins
    return BearerAwareOriginValidator(application, allowed)
