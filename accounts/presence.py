"""When a user was last seen: any signed-in request, any websocket activity.

``User.last_seen_at`` tells the unread digest who was offline and account hygiene who stopped
using the product. It is written at most once a minute per user
(``AIRCOP_LAST_SEEN_EVERY_SECONDS``): the middleware compares with the value already loaded with
the user, so a request costs no query at all most of the time, and the write is a conditional
UPDATE, so concurrent requests do not write twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import User


def seen_is_stale(user: User, now: datetime | None = None) -> bool:
    """True when ``user.last_seen_at`` (as loaded) is older than the throttle: worth a write."""
    now = now or timezone.now()
    every = timedelta(seconds=settings.AIRCOP_LAST_SEEN_EVERY_SECONDS)
    return user.last_seen_at is None or user.last_seen_at <= now - every


def user_seen(*, user: User, force: bool = False) -> None:
    """Record that ``user`` is here now (throttled unless ``force``)."""
    now = timezone.now()
    if not force and not seen_is_stale(user, now):
        return
    users = User.objects.filter(pk=user.pk)
    if not force:
        every = timedelta(seconds=settings.AIRCOP_LAST_SEEN_EVERY_SECONDS)
        users = users.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=now - every))
    users.update(last_seen_at=now)
    user.last_seen_at = now


class LastSeenMiddleware:
    """After the response: the signed-in user (session or API token) was here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active and seen_is_stale(user):
            user_seen(user=user)
        return response
