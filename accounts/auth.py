"""Authentication at the edges: Bearer tokens for the API and the websocket, the session rules
on the websocket, Origin checks.

Browsers use the session cookie; scripts and non-browser clients send
``Authorization: Bearer <token>``. A websocket handshake that carries an
``Origin`` header (every browser sends one) must come from an allowed host; a
handshake without ``Origin`` is accepted only when it authenticates with a
Bearer token, which a cross-site page cannot attach.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from django.contrib.auth.models import AnonymousUser
from ninja.security import HttpBearer

from . import sessions
from .selectors import user_for_token
from .services import api_token_touch
from .tokens import token_hash


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
        user = user_for_token(secret=token)
        if user is None:
            return None
        api_token_touch(token_hash_value=token_hash(token))
        request.user = user
        return user


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


class BearerAwareOriginValidator(OriginValidator):
    async def __call__(self, scope, receive, send):
        if _header(scope, b"origin") is None and bearer_secret(_header(scope, b"authorization")):
            return await self.application(scope, receive, send)
        return await super().__call__(scope, receive, send)


def websocket_origin_validator(application):
    """AllowedHostsOriginValidator's rules, plus Bearer-only clients without an Origin."""
    allowed = AllowedHostsOriginValidator(application).allowed_origins
    return BearerAwareOriginValidator(application, allowed)
