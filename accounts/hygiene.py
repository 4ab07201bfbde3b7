"""Account hygiene: an account unused for ``AIRCOP_ACCOUNT_IDLE_BLOCK_DAYS`` (90) is blocked,
after one e-mail reminder ``AIRCOP_ACCOUNT_IDLE_REMINDER_DAYS`` (10) days before; an
administrator unblocks it.

Unused since: the latest of the last sighting (``last_seen_at``: any signed-in request, API
call or websocket, see accounts.presence), the last login, the account's creation and its last
unblocking. Blocked is not deactivated: ``is_active`` withdraws access for good (an officer who
left), ``blocked_at`` only until an administrator lifts it; a blocked user cannot sign in, and
sessions and API tokens stop working (accounts.backends, accounts.selectors.user_for_token).
Nobody idle that long has a websocket open: an open socket refreshes ``last_seen_at``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from aircop.exceptions import Conflict
from aircop.links import absolute_url
from aircop.mail import mail_user

from .audit import audit_record
from .models import User

logger = logging.getLogger(__name__)

REMINDER_TEMPLATE = "accounts/email/block_reminder"


def _with_last_activity(users: QuerySet[User]) -> QuerySet[User]:
    joined = F("date_joined")
    return users.annotate(
        last_activity=Greatest(
            joined,
            Coalesce("last_seen_at", joined),
            Coalesce("last_login", joined),
            Coalesce("unblocked_at", joined),
        )
    )


def _active_unblocked() -> QuerySet[User]:
    return _with_last_activity(User.objects.filter(is_active=True, blocked_at__isnull=True))


def _block_days() -> timedelta:
    return timedelta(days=settings.AIRCOP_ACCOUNT_IDLE_BLOCK_DAYS)


def _reminder_lead() -> timedelta:
    return timedelta(days=settings.AIRCOP_ACCOUNT_IDLE_REMINDER_DAYS)


def accounts_to_block(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    users = _active_unblocked().filter(last_activity__lte=now - _block_days())
    return list(users.order_by("pk").values_list("pk", flat=True))


def accounts_to_remind(*, now: datetime | None = None) -> list[int]:
    """Idle long enough for the reminder, not blocked yet, not reminded since last active."""
    now = now or timezone.now()
    users = (
        _active_unblocked()
        .filter(
            last_activity__lte=now - (_block_days() - _reminder_lead()),
            last_activity__gt=now - _block_days(),
        )
        .filter(Q(block_reminded_at__isnull=True) | Q(block_reminded_at__lt=F("last_activity")))
        .exclude(email="")
    )
    return list(users.order_by("pk").values_list("pk", flat=True))


def account_block_remind(*, user_id: int, now: datetime | None = None) -> bool:
    """E-mail the reminder, once per idle spell. True when this call sent it."""
    now = now or timezone.now()
    user = _active_unblocked().filter(pk=user_id).first()
    if user is None or not user.email:
        return False
    idle_since = user.last_activity
    if not (now - _block_days() < idle_since <= now - (_block_days() - _reminder_lead())):
        return False
    if user.block_reminded_at is not None and user.block_reminded_at >= idle_since:
        return False
    # The claim: compare-and-set on the value read, so a second run finds it changed.
    claimed = User.objects.filter(pk=user_id, block_reminded_at=user.block_reminded_at).update(
        block_reminded_at=now
    )
    if not claimed:
        return False
    try:
        mail_user(
            user,
            template=REMINDER_TEMPLATE,
            context={
                "block_on": idle_since + _block_days(),
                "days": settings.AIRCOP_ACCOUNT_IDLE_BLOCK_DAYS,
                "url": absolute_url("accounts:login"),
            },
        )
    except BaseException:
        User.objects.filter(pk=user_id, block_reminded_at=now).update(
            block_reminded_at=user.block_reminded_at
        )
        raise
    logger.info("Blocking reminder sent (user %s)", user_id)
    return True


@transaction.atomic
def account_block_idle(*, user_id: int, now: datetime | None = None) -> bool:
    """Block the account if it is still unused past the limit. True when this call blocked it."""
    now = now or timezone.now()
    user = (
        _active_unblocked()
        .select_for_update(of=("self",))
        .filter(pk=user_id, last_activity__lte=now - _block_days())
        .first()
    )
    if user is None:
        return False
    user.blocked_at = now
    user.save(update_fields=["blocked_at"])
    audit_record(
        actor=None,
        action="user.blocked",
        target=user,
        data={
            "reason": "idle",
            "idle_days": settings.AIRCOP_ACCOUNT_IDLE_BLOCK_DAYS,
            "last_activity": user.last_activity.isoformat(),
        },
    )
    logger.info("Account blocked after %s idle days (user %s)", _block_days().days, user_id)
    return True


@transaction.atomic
def account_unblock(*, actor: User, user: User) -> User:
    """An administrator lifts the block; the idle clock starts again now."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.blocked_at is None:
        raise Conflict(_("This account is not blocked."), field="user")
    now = timezone.now()
    blocked_at = user.blocked_at
    user.blocked_at = None
    user.unblocked_at = now
    user.block_reminded_at = None
    user.save(update_fields=["blocked_at", "unblocked_at", "block_reminded_at"])
    audit_record(
        actor=actor,
        action="user.unblocked",
        target=user,
        data={"blocked_at": blocked_at.isoformat()},
    )
    return user
