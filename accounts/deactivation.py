"""Deactivating an account (administrators): access ends everywhere at once.

In one transaction the account is marked inactive, its API tokens revoked and its sessions
deleted; after commit its open websockets are closed. Audited ``user.deactivated``."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aircop.exceptions import DomainError

from .audit import audit_record
from .events import user_deactivated_on_commit
from .models import ApiToken, User


def sessions_end(*, user: User) -> int:
    """Delete every stored session of ``user``; returns how many.

    Works with the database session engines (``db``, the default, and ``cached_db``, whose
    cache entries are deleted too). With a signed-cookie or cache-only engine sessions cannot
    be listed; they die anyway, because authentication refuses an inactive user."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    get_model = getattr(store_class, "get_model_class", None)
    if get_model is None:
        return 0
    keys = [
        session.session_key
        for session in get_model().objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    for key in keys:
        store_class(session_key=key).delete()
    return len(keys)


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """End all of ``user``'s access: sessions, API tokens, websockets."""
    if not actor.is_staff:
        raise PermissionDenied
    if actor.pk == user.pk:
        raise DomainError(_("You cannot deactivate your own account."), field="user")
    user = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    sessions = sessions_end(user=user)
    was_active = user.is_active
    if was_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    if was_active or tokens or sessions:
        audit_record(
            actor=actor,
            action="user.deactivated",
            target=user,
            data={"user": user.username, "tokens_revoked": tokens, "sessions_ended": sessions},
        )
    user_deactivated_on_commit(user_id=user.pk)
    return user
