"""Logging in takes two steps: the password, then the second factor.

After the right password the session holds a *pending* login (the user id, for
``AIRCOP_LOGIN_PENDING_SECONDS``), under a new session id, but nobody is signed in: every
page but the second-factor step still answers as to an anonymous visitor. The right code
(or a first enrolment) completes the login with ``django.contrib.auth.login`` (a new session
id again) and records the device in the session (django-otp), so a signed-in session is
always a verified one. A wrong code counts as a failed login for django-axes, so five wrong
passwords or codes lock the username and the address alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone
from django_otp.models import Device

from .models import User

PENDING_KEY = "aircop.login_pending"


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str
    next_url: str


def _now() -> int:
    return int(timezone.now().timestamp())


def pending_start(request, *, user: User, next_url: str) -> None:
    """The password was right: remember who, under a new session id."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "at": _now(),
        "next": next_url,
    }


def pending_login(request) -> PendingLogin | None:
    """The login waiting for its second factor, or None (none, expired, user deactivated or
    blocked since the password was given)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if _now() - data.get("at", 0) > settings.AIRCOP_LOGIN_PENDING_SECONDS:
        pending_clear(request)
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True, blocked_at__isnull=True).first()
    if user is None:
        pending_clear(request)
        return None
    return PendingLogin(user=user, backend=data["backend"], next_url=data.get("next", ""))


def pending_clear(request) -> None:
    request.session.pop(PENDING_KEY, None)


def login_complete(request, *, pending: PendingLogin, device: Device) -> None:
    """Sign the user in, verified by ``device`` (django-otp stores it in the session)."""
    pending_clear(request)
    user = pending.user
    user.otp_device = device
    auth.login(request, user, backend=pending.backend)


def second_factor_failed(request, *, user: User) -> None:
    """A wrong code is a failed login attempt for django-axes (which may lock out)."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request
    )


def is_locked_out(request, *, user: User) -> bool:
    return AxesProxyHandler.is_locked(request, {"username": user.username})
