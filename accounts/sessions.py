"""The lifetime of a signed-in session: when it started, when it was last used, whether its
second factor was verified, and when it ends.

A session records its login time and its last activity (epoch seconds). It ends after
``AIRCOP_SESSION_IDLE_SECONDS`` without a request and ``AIRCOP_SESSION_ABSOLUTE_SECONDS``
after login, whatever the activity. The HTTP middleware (``accounts.middleware``) and the
websocket middleware (``accounts.auth``) apply the same rules through this module.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

LOGIN_AT_KEY = "aircop.login_at"
LAST_SEEN_KEY = "aircop.last_seen"
# The last activity is written at most this often (a session write per minute, not per request).
TOUCH_EVERY_SECONDS = 60


class SessionEnd(StrEnum):
    IDLE = "idle"
    ABSOLUTE = "absolute"
    UNVERIFIED = "unverified"


def _now() -> int:
    return int(timezone.now().timestamp())


@receiver(user_logged_in, dispatch_uid="aircop.session_start")
def session_start(sender, request, user, **kwargs) -> None:
    """Every login (the login flow, the test client's force_login) stamps its session."""
    if request is None or not hasattr(request, "session"):
        return
    now = _now()
    request.session[LOGIN_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now


def session_end_reason(session, *, now: int | None = None) -> SessionEnd | None:
    """Why this signed-in session is over (idle, past its absolute lifetime), or None."""
    now = _now() if now is None else now
    login_at = session.get(LOGIN_AT_KEY)
    last_seen = session.get(LAST_SEEN_KEY)
    if not isinstance(login_at, int) or not isinstance(last_seen, int):
        # A session without its stamps did not come through a login: refuse it.
        return SessionEnd.ABSOLUTE
    if now - login_at >= settings.AIRCOP_SESSION_ABSOLUTE_SECONDS:
        return SessionEnd.ABSOLUTE
    if now - last_seen >= settings.AIRCOP_SESSION_IDLE_SECONDS:
        return SessionEnd.IDLE
    return None


def session_ends_at(session) -> int | None:
    """When this session will end if nothing happens (epoch seconds), or None if it has."""
    if session_end_reason(session) is not None:
        return None
    return min(
        session[LOGIN_AT_KEY] + settings.AIRCOP_SESSION_ABSOLUTE_SECONDS,
        session[LAST_SEEN_KEY] + settings.AIRCOP_SESSION_IDLE_SECONDS,
    )


def session_touch(session, *, now: int | None = None) -> None:
    """Record activity (written when the last record is more than a minute old)."""
    now = _now() if now is None else now
    if now - session.get(LAST_SEEN_KEY, 0) >= TOUCH_EVERY_SECONDS:
        session[LAST_SEEN_KEY] = now


def session_is_verified(session, user) -> bool:
    """The session's user passed a second factor with a device that is still theirs.

    The rule of django-otp's OTPMiddleware, for places it does not reach (the websocket).
    """
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id or not user.is_authenticated:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed
